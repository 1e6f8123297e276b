"""Engines execute a Plan. `local` (Arrow / Hugging Face datasets) is the embedded default."""
