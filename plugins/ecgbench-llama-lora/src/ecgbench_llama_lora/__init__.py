"""LLaMA 3.2 Vision (Mllama) with LoRA, answering questions about printed ECGs (arXiv 2501.18670)."""

__version__ = "0.1.0"
