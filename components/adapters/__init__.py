"""LoRA adapters an engine loads while it runs (no restart): the sync program."""
