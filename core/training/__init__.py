"""Training: data tensors, the loop, checkpoints, DDP, launching runs as processes."""
