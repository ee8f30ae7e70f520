#!/usr/bin/env python3
"""A real data-parallel PyTorch training script for Trainyard (and torchrun).

Trains a small MLP to imitate a fixed random "teacher" network (16 inputs, 8 tanh units, one output) on fresh
random inputs every step, with torch.distributed: gloo on CPU, NCCL when CUDA is present. The task is learnable:
at the default learning rate the loss falls from about 1 to about 0.05 in 200 steps on CPU; a learning rate of
1e-4 barely moves it, 1e-1 is unstable, --target-noise 1.0 keeps it near 1 (a run clearly worse than the others:
early stopping's example), and --seed changes the initial weights and the data drawn. The strategy defaults to $TRAINYARD_STRATEGY
(what `trainyard launch --strategy` or a spec's `strategy:` sets):
  ddp                 DistributedDataParallel
  zero1               DDP plus torch's ZeroRedundancyOptimizer (optimizer state sharded, ZeRO stage 1)
  fsdp-full-shard, fsdp-shard-grad-op, fsdp-hybrid-shard
                      FullyShardedDataParallel (needs CUDA), sharding as Accelerate's FSDP_SHARDING_STRATEGY says
Metrics go to Trainyard through trainyard_log (loss, lr, grad_norm, and samples and tokens: what each step trains on,
over all ranks, whence Trainyard's samples/s, tokens/s and, with the model's size in a spec, MFU; each sample is one
input vector, one position, so tokens = samples). Its phases (data, forward, backward, optimizer, and sync: the wait for the other ranks) are timed on every rank, so
`trainyard show` says which rank is slow and whether the input is. Two switches make the example slow on purpose:
  TRAINYARD_EXAMPLE_SLOW_RANK=N    rank N sleeps TRAINYARD_EXAMPLE_SLOW_FACTOR (default 0.3) of its step time more
  --data-delay-ms MS                every rank sleeps MS in its data phase (an input-bound run)

Checkpoints: --checkpoint-every N saves rank 0's model (and, under ddp, optimizer) into $TRAINYARD_CHECKPOINT_DIR
every N steps and tells Trainyard (trainyard_log.checkpoint); a run given $TRAINYARD_RESUME_FROM (a restart) goes on
from the step after it. --fail-at-step S with --fail-first-attempt-only fails once, so that a restart resumes.

    trainyard launch --nproc-per-node 2 -- /usr/bin/python3 train_ddp.py --steps 50
"""

import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.environ.get("TRAINYARD_PYTHON_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")))
import trainyard_log  # noqa: E402

INPUTS = 16  # features of each sample
TEACHER_UNITS = 8  # tanh units of the teacher network the model learns to imitate


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", choices=["ddp", "zero1", "fsdp-full-shard", "fsdp-shard-grad-op", "fsdp-hybrid-shard"],
                        default=os.environ.get("TRAINYARD_STRATEGY", "ddp"))
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64, help="per rank")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-noise", type=float, default=0.05,
                        help="standard deviation of the noise added to the teacher's targets: the loss cannot fall "
                             "below about its square, so 1.0 makes a run clearly worse (early stopping's example)")
    parser.add_argument("--fail-at-step", type=int, default=-1, help="raise an error at this step (to try failure handling)")
    parser.add_argument("--fail-rank", type=int, default=-1, help="the rank that fails (-1: every rank)")
    parser.add_argument("--fail-first-attempt-only", action="store_true",
                        help="fail at --fail-at-step on the first attempt only (a restart then goes on)")
    parser.add_argument("--data-delay-ms", type=float, default=0.0, help="sleep this long in each step's data phase")
    parser.add_argument("--checkpoint-every", type=int, default=0,
                        help="rank 0 saves a checkpoint every N steps into $TRAINYARD_CHECKPOINT_DIR (0: never)")
    parser.add_argument("--resume", default=os.environ.get("TRAINYARD_RESUME_FROM"),
                        help="checkpoint to go on from (default: $TRAINYARD_RESUME_FROM; a spec passes it with "
                             "param_passing.args: [\"--resume={checkpoint}\"])")
    return parser.parse_args()


def main():
    args = parse_args()
    if args.checkpoint_every > 0 and args.strategy.startswith("fsdp"):
        raise SystemExit("train_ddp.py: --checkpoint-every saves the whole model from rank 0, which FSDP shards; "
                         "use ddp or zero1 with checkpoints")
    use_cuda = torch.cuda.is_available()
    backend = "nccl" if use_cuda else "gloo"
    dist.init_process_group(backend=backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)

    torch.manual_seed(args.seed)  # same initial weights on every rank
    model = nn.Sequential(nn.Linear(INPUTS, args.hidden), nn.ReLU(), nn.Linear(args.hidden, args.hidden), nn.ReLU(),
                          nn.Linear(args.hidden, 1)).to(device)
    if args.strategy.startswith("fsdp"):
        if not use_cuda:
            raise SystemExit(f"train_ddp.py: strategy {args.strategy} uses FullyShardedDataParallel, which needs CUDA; "
                             "this machine has no CUDA device (use ddp or zero1 on CPU)")
        from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
        sharding = os.environ.get("FSDP_SHARDING_STRATEGY", args.strategy[len("fsdp-"):].upper().replace("-", "_"))
        ddp_model = FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy[sharding], device_id=local_rank)
    else:
        ddp_model = DistributedDataParallel(model, device_ids=[local_rank] if use_cuda else None)
    if args.strategy == "zero1":
        from torch.distributed.optim import ZeroRedundancyOptimizer
        optimizer = ZeroRedundancyOptimizer(ddp_model.parameters(), optimizer_class=torch.optim.AdamW, lr=args.lr)
    else:
        optimizer = torch.optim.AdamW(ddp_model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, args.steps))

    # Each rank draws its own inputs; the teacher is the same on every rank and for every seed.
    generator = torch.Generator().manual_seed(args.seed * 1000 + rank)
    teacher = torch.Generator().manual_seed(1234)
    teacher_in = torch.randn(INPUTS, TEACHER_UNITS, generator=teacher) / INPUTS**0.5
    teacher_out = torch.randn(TEACHER_UNITS, 1, generator=teacher) / TEACHER_UNITS**0.5 * 2.5
    # Where this rank sits in the job: what to look at first when ranks on several nodes do not meet.
    print(f"rank {rank}/{world} on {device} ({backend}), strategy {args.strategy}, "
          f"node {os.environ.get('NODE_RANK', '0')} local rank {local_rank}, "
          f"master {os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}", flush=True)

    # Resuming: a checkpoint Trainyard names (a restart, or a run forked from a step) gives the weights, the optimizer
    # and the step to go on from.
    first_step = 0
    resume_from = args.resume
    if resume_from:
        state = torch.load(resume_from, map_location=device)
        model.load_state_dict(state["model"])
        if "optimizer" in state and args.strategy == "ddp":
            optimizer.load_state_dict(state["optimizer"])
            # The saved state carries the parent's learning rate: a fork with another --lr goes on with its own.
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] = args.lr
        first_step = int(state["step"]) + 1
        for _ in range(first_step):
            scheduler.step()
        print(f"rank {rank}: resumed from {resume_from} at step {first_step}", flush=True)

    slow_rank = int(os.environ.get("TRAINYARD_EXAMPLE_SLOW_RANK", "-1"))
    slow_factor = float(os.environ.get("TRAINYARD_EXAMPLE_SLOW_FACTOR", "0.3"))
    for step in range(first_step, args.steps):
        started = time.perf_counter()
        with trainyard_log.phase("data"):
            inputs = torch.randn(args.batch_size, INPUTS, generator=generator)
            targets = torch.tanh(inputs @ teacher_in) @ teacher_out + args.target_noise * torch.randn(
                args.batch_size, 1, generator=generator)
            inputs, targets = inputs.to(device), targets.to(device)
            if args.data_delay_ms > 0:
                time.sleep(args.data_delay_ms / 1000.0)
        first_attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
        if step == args.fail_at_step and args.fail_rank in (-1, rank) and (first_attempt or not args.fail_first_attempt_only):
            raise RuntimeError(f"injected failure at step {step} on rank {rank}")
        with trainyard_log.phase("forward"):
            loss = nn.functional.mse_loss(ddp_model(inputs), targets)
        with trainyard_log.phase("backward"):
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        with trainyard_log.phase("optimizer"):
            grad_norm = torch.nn.utils.clip_grad_norm_(ddp_model.parameters(), max_norm=10.0)
            optimizer.step()
            scheduler.step()
        if rank == slow_rank:  # a straggler on purpose: the others wait for it at the next all_reduce
            time.sleep(slow_factor * (time.perf_counter() - started))
        # The mean loss over ranks, as every rank sees it after an all_reduce: where the ranks wait for the slowest
        # (marked `sync`, so that Trainyard tells waiting from working and names the straggler).
        mean_loss = loss.detach().clone()
        with trainyard_log.phase("sync"):
            dist.all_reduce(mean_loss)
        mean_loss /= world
        trainyard_log.log({"loss": mean_loss.item(), "lr": scheduler.get_last_lr()[0], "grad_norm": float(grad_norm),
                           "samples": args.batch_size * world, "tokens": args.batch_size * world}, step=step)
        if rank == 0 and (step % 10 == 0 or step == args.steps - 1):
            print(f"step={step} loss={mean_loss.item():.5f}", flush=True)
        if rank == 0 and args.checkpoint_every > 0 and (step + 1) % args.checkpoint_every == 0:
            # Saved under a temporary name and renamed, so that a checkpoint is never seen half-written.
            path = os.path.join(trainyard_log.checkpoint_dir(), f"step_{step}.pt")
            state = {"model": model.state_dict(), "step": step}
            if args.strategy == "ddp":  # a sharded optimizer's state would need every rank to gather it first
                state["optimizer"] = optimizer.state_dict()
            torch.save(state, path + ".tmp")
            os.replace(path + ".tmp", path)
            trainyard_log.checkpoint(path, step, loss=mean_loss.item())

    if args.strategy == "zero1":
        optimizer.consolidate_state_dict(to=0)
    dist.barrier()
    dist.destroy_process_group()
    if rank == 0:
        print("done", flush=True)


if __name__ == "__main__":
    main()
