#!/usr/bin/python3
"""Perplexity of a small character-level transformer on a text file, in FP32 and with every
nn.Linear fake-quantized in qarch formats (weights once, inputs on every call).

    PYTHONPATH=build/python python3 python/examples/perplexity.py --text README.md \
        --formats int8,mxfp4,olive4 [--train-steps 200]

The model is randomly initialised (seeded) and, unless --train-steps is given, not trained:
its perplexity is near the vocabulary size and the comparison only shows how much each format
perturbs the same network. For a real study, load your own checkpoint and call
qarch.torch.quantize_linear_layers(model, act=..., weight=...) in your evaluation script.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import qarch.torch as qt


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyLM(nn.Module):
    def __init__(self, vocab, dim=64, heads=4, layers=2, ctx=64):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, dim), nn.Embedding(ctx, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln, self.lm_head = nn.LayerNorm(dim), nn.Linear(dim, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.lm_head(self.ln(x))


def perplexity(model, data, ctx):
    model.eval()
    losses = []
    with torch.no_grad():
        for i in range(0, len(data) - ctx - 1, ctx):
            x = data[i:i + ctx].unsqueeze(0)
            y = data[i + 1:i + ctx + 1].unsqueeze(0)
            losses.append(F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item())
    return math.exp(sum(losses) / len(losses))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--text", required=True, help="a text file (characters are the tokens)")
    ap.add_argument("--formats", default="int8,mxfp4,olive4",
                    help="comma-separated qarch formats for weights and activations")
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--train-steps", type=int, default=0, help="Adam steps before evaluating")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with open(args.text, encoding="utf-8", errors="replace") as f:
        text = f.read()
    vocab = sorted(set(text))
    if len(text) < 2 * args.ctx + 2:
        raise SystemExit(f"{args.text}: too short for --ctx {args.ctx}")
    data = torch.tensor([vocab.index(c) for c in text], dtype=torch.long)
    torch.manual_seed(args.seed)
    model = TinyLM(len(vocab), ctx=args.ctx)
    if args.train_steps:
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for step in range(args.train_steps):
            i = torch.randint(0, len(data) - args.ctx - 1, (16,))
            x = torch.stack([data[j:j + args.ctx] for j in i])
            y = torch.stack([data[j + 1:j + args.ctx + 1] for j in i])
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
    results = {"fp32": perplexity(model, data, args.ctx)}
    print(f"{'fp32':<24} perplexity {results['fp32']:.4f}")
    for fmt in [f for f in args.formats.split(",") if f]:
        handles = qt.quantize_linear_layers(model, act=fmt, weight=fmt)
        results[fmt] = perplexity(model, data, args.ctx)
        qt.remove(handles)
        print(f"{fmt:<24} perplexity {results[fmt]:.4f}  ({results[fmt] / results['fp32']:.4f}x)")
    return results


if __name__ == "__main__":
    main()
