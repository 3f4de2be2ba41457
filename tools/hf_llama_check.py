#!/usr/bin/python3
"""Pure-PyTorch re-implementation of Hugging Face `LlamaForCausalLM` (no `transformers` needed).

  check:  hf_llama_check.py --checkpoint DIR --text FILE        -> prints JSON {"loss", "tokens", "windows"}
  bench:  hf_llama_check.py --bench --layers 4 --d-model 128 --heads 4 --ffn 352 --context 128 --batch 16
                                                                 -> prints JSON {"tokensPerSecond", ...}

The model follows transformers' modeling_llama.py: pre-RMSNorm (float32 variance, weight * normed),
rotate-half RoPE with inv_freq = 1/theta^(arange(0, hd, 2)/hd), causal softmax attention in float32,
SwiGLU MLP down(silu(gate(x)) * up(x)), final RMSNorm, untied lm_head; no biases.
The loss uses the same windows as `deno task eval`: non-overlapping windows of `context` predictions.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F


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
        assert h["dtype"] == "F32", f"{name}: dtype {h['dtype']}"
        a, b = h["data_offsets"]
        t = torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).reshape(h["shape"])
        out[name] = t
    return out


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, f, self.h = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"]
        self.hd = d // self.h
        L = torch.nn.Linear
        self.input_layernorm = RMSNorm(d, c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(d, c["rms_norm_eps"])
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (L(d, d, bias=False) for _ in range(4))
        self.gate_proj, self.up_proj = L(d, f, bias=False), L(d, f, bias=False)
        self.down_proj = L(f, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, d = x.shape
        r = x
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.h, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd) + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(w, v).transpose(1, 2).reshape(B, T, d)
        x = r + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c["hidden_size"]
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], d)
        self.layers = torch.nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(d, c["rms_norm_eps"])
        self.lm_head = torch.nn.Linear(d, c["vocab_size"], bias=False)

    def forward(self, ids):
        B, T = ids.shape
        hd = self.c["hidden_size"] // self.c["num_attention_heads"]
        theta = self.c.get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))

    def load_hf(self, tensors):
        sd = {}
        for name, t in tensors.items():
            k = name.replace("model.", "", 1) if name.startswith("model.") else name
            k = k.replace("self_attn.", "").replace("mlp.", "")
            sd[k] = t
        missing, unexpected = self.load_state_dict(sd, strict=True), None
        return missing


def check(args):
    with open(os.path.join(args.checkpoint, "config.json")) as f:
        c = json.load(f)
    assert c["architectures"] == ["LlamaForCausalLM"] and c["tie_word_embeddings"] is False
    m = Llama(c)
    m.load_hf(load_safetensors(os.path.join(args.checkpoint, "model.safetensors")))
    m.eval()
    data = open(args.text, "rb").read()
    T = c["max_position_embeddings"]
    total, count, windows = 0.0, 0, 0
    with torch.no_grad():
        for s in range(0, len(data) - 1, T):
            chunk = torch.tensor(list(data[s:s + T + 1]), dtype=torch.long)
            inp, tgt = chunk[:-1][None], chunk[1:]
            logits = m(inp)[0]
            total += F.cross_entropy(logits.double(), tgt, reduction="sum").item()
            count += tgt.numel()
            windows += 1
    print(json.dumps({"loss": total / count, "tokens": count, "windows": windows}))


def bench(args):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    c = {
        "hidden_size": args.d_model, "intermediate_size": args.ffn, "num_attention_heads": args.heads,
        "num_hidden_layers": args.layers, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": 256,
        "max_position_embeddings": args.context,
    }
    m = Llama(c)
    for p in m.parameters():
        if p.dim() == 2:
            torch.nn.init.normal_(p, std=0.02)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 256, (args.batch, args.context + 1), generator=g)
    times = []
    cpu0 = None
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            cpu0 = time.process_time()
        t0 = time.perf_counter()
        logits = m(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({
        "tokensPerSecond": args.batch * args.context / med, "stepSeconds": med, "steps": args.steps,
        "tokensPerCpuSecond": args.batch * args.context * args.steps / max(cpu, 1e-9),
        "threads": args.threads, "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"), "torch": torch.__version__,
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint")
    ap.add_argument("--text")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=352)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.bench:
        bench(a)
    elif a.checkpoint and a.text:
        check(a)
    else:
        ap.error("give --checkpoint and --text, or --bench")


if __name__ == "__main__":
    sys.exit(main())
