#!/usr/bin/python3
"""Pure-PyTorch re-implementation of the original DiT (facebookresearch/DiT models.py, learn_sigma=False)
that recomputes fp4lab's DiT validation loss from a checkpoint (no timm / diffusers needed).

  dit_check.py --checkpoint DIR --inputs FILE.safetensors [--double]
      -> prints JSON {"loss", "batch", "posEmbedMaxDiff"}

The checkpoint is `model.safetensors` (DiT state_dict names) + `config.json` (input_size, patch_size,
in_channels, hidden_size, depth, num_heads, mlp_ratio, num_classes). The inputs file holds x0 [B,1,28,28]
F32, y [B] I32, t [B] I32, noise [B,1,28,28] F32; the loss is mean((eps_theta(x_t, t, y) - noise)^2) with
x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, abar from 1,000 linear betas 1e-4..0.02 (float64, the
coefficients cast to float32 as DiT's _extract_into_tensor does).

Semantics followed (DiT models.py): PatchEmbed = Conv2d(C, hidden, p, stride p) then flatten(2).transpose(1, 2);
fixed 2-D sin-cos pos_embed; TimestepEmbedder = Linear(256, h) -> SiLU -> Linear(h, h) over
[cos, sin](t * exp(-ln(10000) * i / 128)); LabelEmbedder table of num_classes + 1 rows; DiTBlock with
adaLN-Zero (SiLU -> Linear(h, 6h), chunk order shift/scale/gate msa, shift/scale/gate mlp), LayerNorm
(elementwise_affine=False, eps=1e-6), timm Attention (fused qkv with bias, reshape(B, N, 3, heads, hd)),
timm Mlp with GELU(approximate="tanh"); FinalLayer (adaLN shift/scale, Linear(h, p*p*C)); unpatchify
"nhwpqc->nchpwq".
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": torch.float32, "I32": torch.int32}[h["dtype"]]
        a, b = h["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=dt).reshape(h["shape"]) if b > a else \
            torch.zeros(h["shape"], dtype=dt)
    return out


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(freq, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.freq = freq

    @staticmethod
    def timestep_embedding(t, dim, max_period=10000):
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, t):
        return self.mlp(self.timestep_embedding(t, self.freq).to(self.mlp[0].weight.dtype))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, hidden):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, hidden)

    def forward(self, y):
        return self.embedding_table(y)


class PatchEmbed(nn.Module):
    def __init__(self, p, c, hidden):
        super().__init__()
        self.proj = nn.Conv2d(c, hidden, kernel_size=p, stride=p, bias=True)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class DiTBlock(nn.Module):
    def __init__(self, hidden, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(hidden, int(hidden * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden, bias=True))

    def forward(self, x, c):
        sh1, sc1, g1, sh2, sc2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm1(x), sh1, sc1))
        x = x + g2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), sh2, sc2))
        return x


class FinalLayer(nn.Module):
    def __init__(self, hidden, p, out_channels):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden, p * p * out_channels, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden, bias=True))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


def get_1d_sincos(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64)
    omega /= embed_dim / 2.0
    omega = 1.0 / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def get_2d_sincos_pos_embed(embed_dim, grid_size):
    gh = np.arange(grid_size, dtype=np.float32)
    gw = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(gw, gh), axis=0).reshape([2, 1, grid_size, grid_size])
    emb_h = get_1d_sincos(embed_dim // 2, grid[0])
    emb_w = get_1d_sincos(embed_dim // 2, grid[1])
    return np.concatenate([emb_h, emb_w], axis=1)


class DiT(nn.Module):
    def __init__(self, input_size, patch_size, in_channels, hidden_size, depth, num_heads, mlp_ratio, num_classes):
        super().__init__()
        self.c = in_channels
        self.p = patch_size
        self.x_embedder = PatchEmbed(patch_size, in_channels, hidden_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.y_embedder = LabelEmbedder(num_classes, hidden_size)
        n = (input_size // patch_size) ** 2
        self.pos_embed = nn.Parameter(torch.zeros(1, n, hidden_size), requires_grad=False)
        self.blocks = nn.ModuleList([DiTBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)])
        self.final_layer = FinalLayer(hidden_size, patch_size, in_channels)

    def unpatchify(self, x):
        c, p = self.c, self.p
        h = w = int(x.shape[1] ** 0.5)
        x = x.reshape(x.shape[0], h, w, p, p, c)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.shape[0], c, h * p, h * p)

    def forward(self, x, t, y):
        x = self.x_embedder(x) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            x = block(x, c)
        return self.unpatchify(self.final_layer(x, c))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--double", action="store_true", help="compute in float64 (default float32, as DiT)")
    a = ap.parse_args()
    with open(f"{a.checkpoint}/config.json") as f:
        cfg = json.load(f)
    keys = ["input_size", "patch_size", "in_channels", "hidden_size", "depth", "num_heads", "mlp_ratio", "num_classes"]
    model = DiT(**{k: cfg[k] for k in keys})
    sd = load_safetensors(f"{a.checkpoint}/model.safetensors")
    model.load_state_dict(sd, strict=True)
    dtype = torch.float64 if a.double else torch.float32
    model = model.to(dtype).eval()
    pe = get_2d_sincos_pos_embed(cfg["hidden_size"], cfg["input_size"] // cfg["patch_size"])
    pe_diff = float((model.pos_embed[0].double() - torch.from_numpy(pe).float().double()).abs().max())

    inp = load_safetensors(a.inputs)
    x0, y, t, noise = inp["x0"], inp["y"].long(), inp["t"].long(), inp["noise"]
    betas = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    abar = np.cumprod(1.0 - betas)
    sa = torch.from_numpy(np.sqrt(abar))[t].float()[:, None, None, None]
    s1 = torch.from_numpy(np.sqrt(1.0 - abar))[t].float()[:, None, None, None]
    xt = sa * x0 + s1 * noise
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, xt.shape[0], 256):
            eps = model(xt[i:i + 256].to(dtype), t[i:i + 256], y[i:i + 256])
            total += float(((eps.double() - noise[i:i + 256].double()) ** 2).sum())
            count += eps.numel()
    print(json.dumps({"loss": total / count, "batch": int(xt.shape[0]), "posEmbedMaxDiff": pe_diff}))


if __name__ == "__main__":
    try:
        main()
    except (OSError, KeyError, RuntimeError, ValueError) as e:
        print(f"dit_check: {e}", file=sys.stderr)
        sys.exit(2)
