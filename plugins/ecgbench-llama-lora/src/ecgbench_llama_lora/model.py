"""LoRA fine-tuning of a Mllama model on ECG image questions, and greedy answering.

The base model is either a local checkpoint (``model_path``: Llama-3.2-11B-Vision-Instruct or
any Mllama) or the tiny random model of :mod:`ecgbench_llama_lora.tiny`. LoRA adapters go on
every linear layer but ``lm_head`` (:mod:`ecgbench_llama_lora.targets`); the base stays
frozen. Each question becomes one user turn (the image, then the question) in the model's
own chat template; the loss covers the answer tokens and the end-of-turn token only. Only
the adapter is saved (``adapter_model.safetensors`` + ``adapter_config.json``, PEFT's
format), in the cache under a key of base model, settings, training data and seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import (
    AutoProcessor,
    GenerationConfig,
    MllamaForConditionalGeneration,
    ProcessorMixin,
)

from ecgbench.context import RunContext
from ecgbench.contracts.image import MAX_ANSWER_CHARS
from ecgbench.data.qa_types import ImageQASet
from ecgbench.errors import ConfigError
from ecgbench.nn import distributed
from ecgbench.nn.checkpoints import training_key
from ecgbench.nn.pretrained_folder import checked_pretrained_folder
from ecgbench.nn.threads import torch_threads
from ecgbench_llama_lora.config import LlamaLoraConfig
from ecgbench_llama_lora.targets import lora_target_modules
from ecgbench_llama_lora.tiny import EOS, TINY_VERSION, tiny_model

MODEL_NAME = "llama-lora"
ADAPTER_FILE = "adapter_model.safetensors"
IGNORE = -100
#: Settings that change what training produces (answering settings and the cache switch do not).
_TRAINING_FIELDS = (
    "model_path", "tiny", "dtype", "lora_r", "lora_alpha", "lora_dropout", "learning_rate", "weight_decay",
    "warmup_ratio", "epochs", "max_steps", "batch_size", "grad_accum", "max_train_items", "tiny_image_size", "seed",
)


def _dtype(config: LlamaLoraConfig, device: str) -> torch.dtype:
    if config.dtype != "auto":
        return getattr(torch, config.dtype)
    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _checked_model_path(model_path: str) -> Path:
    return checked_pretrained_folder(model_path, "model_path", ("mllama",), "a Mllama checkpoint (llama-lora)",
                                     "/path/to/Llama-3.2-11B-Vision-Instruct")


def load_base(config: LlamaLoraConfig, device: str, seed: int) -> tuple[MllamaForConditionalGeneration, ProcessorMixin, bool]:
    """(model, processor, is_tiny): the local checkpoint, or the tiny random model when allowed."""
    dtype = _dtype(config, device)
    if config.model_path is None:
        if not config.tiny:
            raise ConfigError(
                "llama-lora needs base weights: pass --set model_path=/path/to/Llama-3.2-11B-Vision-Instruct "
                "(a local folder; nothing is downloaded), or --set tiny=true for the tiny random model, "
                "whose scores are only a wiring check (the ci budget does this)"
            )
        model, processor = tiny_model(seed, config.tiny_image_size)
        return model.to(device=device, dtype=dtype), processor, True
    path = _checked_model_path(config.model_path)
    processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    model = MllamaForConditionalGeneration.from_pretrained(
        path, local_files_only=True, use_safetensors=True, dtype=dtype, device_map={"": device}
    )
    return model, processor, False


def _images_fingerprint(images: Iterator[np.ndarray]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for image in images:
        h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


class LlamaLoraInterpreter:
    """A Mllama with LoRA adapters that learns from and answers ECG image questions."""

    def __init__(self, config: LlamaLoraConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx
        self.seed = int(np.random.SeedSequence([ctx.seed, config.seed]).generate_state(1)[0])
        base, self.processor, self.is_tiny = load_base(config, ctx.device, self.seed)
        self.targets = lora_target_modules(base)
        lora = LoraConfig(
            r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            target_modules=self.targets, bias="none", task_type="CAUSAL_LM",
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model: PeftModel = get_peft_model(base, lora)
        if config.gradient_checkpointing:
            # non-reentrant, so that LoRA weights inside the frozen vision tower still get gradients
            # (transformers >= 5.x renamed gradient_checkpointing_enable to activation_checkpointing_enable)
            if hasattr(base, "activation_checkpointing_enable"):
                base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.model.eval()
        tokenizer = self.processor.tokenizer
        stop = {tokenizer.convert_tokens_to_ids(EOS), tokenizer.eos_token_id}
        self.generation = GenerationConfig(
            max_new_tokens=config.max_new_tokens, do_sample=False, num_beams=1,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
            eos_token_id=sorted(t for t in stop if t is not None),
        )
        trainable = sum(p.numel() for p in self.trainable_parameters())
        ctx.note("base_model", "tiny random Mllama" if self.is_tiny else Path(config.model_path or "").name)
        ctx.note("lora_target_modules", len(self.targets))
        ctx.note("trainable_parameters", trainable)
        if self.is_tiny:
            ctx.note("wiring_check", True)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    # ---- encoding ---------------------------------------------------------------------------
    def prompt(self, question: str) -> str:
        """One user turn, the image then the question, in the model's chat template."""
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def encode(self, images: Sequence[np.ndarray], questions: Sequence[str], answers: Sequence[str] | None = None) -> dict:
        """Model inputs for a batch; with ``answers``, labels that cover only the answer tokens.

        Training batches are padded on the right, generation batches on the left.
        """
        tokenizer = self.processor.tokenizer
        prompts = [self.prompt(q) for q in questions]
        tokenizer.padding_side = "left" if answers is None else "right"
        texts = prompts if answers is None else [p + a + EOS for p, a in zip(prompts, answers, strict=True)]
        batch = self.processor(
            images=[[np.asarray(im)] for im in images], text=texts, padding=True,
            add_special_tokens=False, return_tensors="pt",
        )
        if answers is not None:
            labels = batch["input_ids"].clone()
            for row, prompt in enumerate(prompts):
                labels[row, : len(tokenizer(prompt, add_special_tokens=False)["input_ids"])] = IGNORE
            labels[batch["attention_mask"] == 0] = IGNORE
            batch["labels"] = labels
        dtype = next(self.model.parameters()).dtype
        return {
            k: v.to(self.device, dtype=dtype) if k == "pixel_values" else v.to(self.device)
            for k, v in batch.items()
        }

    def loss(self, images: Sequence[np.ndarray], questions: Sequence[str], answers: Sequence[str]) -> torch.Tensor:
        """Mean cross-entropy of the answers (and their end-of-turn token) given image and question."""
        return self.model(**self.encode(images, questions, answers)).loss

    # ---- training -------------------------------------------------------------------------
    def _training_items(self, train: ImageQASet) -> list:
        items = list(train.items)
        limit = self.config.max_train_items
        if limit is not None and len(items) > limit:
            keep = np.sort(np.random.default_rng([self.seed, 1]).choice(len(items), size=limit, replace=False))
            items = [items[k] for k in keep]
        return items

    def _base_identity(self) -> str:
        """The tiny model's version, or a checkpoint's config and weight files (names and sizes)."""
        if self.is_tiny:
            return f"tiny-{TINY_VERSION}"
        path = _checked_model_path(self.config.model_path or "")
        h = hashlib.sha256((path / "config.json").read_bytes())
        for weights in sorted(path.glob("*.safetensors")):
            h.update(f"{weights.name}:{weights.stat().st_size}".encode())
        return h.hexdigest()[:16]

    def _adapter_dir(self, train: ImageQASet, items: list) -> Path:
        base = self._base_identity()
        used = sorted({item.image_index for item in items})
        data = hashlib.sha256(
            json.dumps([(i.image_index, i.question, i.target) for i in items]).encode()
            + _images_fingerprint(train.images[k] for k in used).encode()
        ).hexdigest()
        settings = {**self.config.model_dump(include=set(_TRAINING_FIELDS)), "base": base}
        key = training_key(MODEL_NAME, settings, data, self.seed)
        return Path(self.ctx.cache_dir) / "checkpoints" / MODEL_NAME / key

    def _schedule(self, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
        warmup = max(1, round(self.config.warmup_ratio * total_steps))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total_steps - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

        optimizer = torch.optim.AdamW(
            self.trainable_parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay
        )
        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    @property
    def _cpu_threads(self) -> int | None:
        """The tiny model's ops are too small to share between threads: on CPU it runs on one."""
        return 1 if self.is_tiny and self.device.type == "cpu" else None

    def fit(self, train: ImageQASet) -> LlamaLoraInterpreter:
        """Train the adapters on the questions of ``train`` (or reuse a cached adapter)."""
        with torch_threads(self._cpu_threads):
            return self._fit(train)

    def _fit(self, train: ImageQASet) -> LlamaLoraInterpreter:
        items = self._training_items(train)
        if not items:
            raise ConfigError("llama-lora: the training set has no questions")
        folder = self._adapter_dir(train, items) if self.config.cache_adapter else None
        cached = distributed.agree(float(folder is not None and (folder / ADAPTER_FILE).is_file())) > 0
        if cached and not distributed.is_main():
            return self  # rank 0 answers with the cached adapter; nothing to train here
        if cached:
            self.load_adapter(folder)
            self.ctx.note("adapter", f"reused {folder}")
            return self
        cfg = self.config
        per_step = cfg.batch_size * cfg.grad_accum
        total = cfg.max_steps or cfg.epochs * math.ceil(len(items) / per_step)
        rng = np.random.default_rng([self.seed, 2])

        def micro_batches() -> Iterator[list]:
            while True:
                order = rng.permutation(len(items))
                for start in range(0, len(order), cfg.batch_size):
                    yield [items[k] for k in order[start: start + cfg.batch_size]]

        batches = micro_batches()
        scheduler = self._schedule(total)
        optimizer = scheduler.optimizer
        trainable = self.trainable_parameters()
        distributed.check_batch(min(cfg.batch_size, len(items)), "llama-lora")
        distributed.note_batch("LoRA fine-tuning", cfg.batch_size * cfg.grad_accum)
        distributed.broadcast_tensors(trainable)
        torch.manual_seed(self.seed)
        distributed.seed_rank(self.seed)
        self.model.train()
        losses = torch.zeros(total, dtype=torch.float64, device=self.device)  # read back once in a while
        shown_every = max(1, total // 20)
        bar = self.ctx.progress(range(total), desc="LoRA fine-tuning", total=total)
        for step in bar:
            for _ in range(cfg.grad_accum):
                batch = next(batches)  # the global micro-batch; this rank trains on its share
                part = distributed.share(len(batch))
                mine, kept = batch[part], (part.stop - part.start) / len(batch)
                if not mine:
                    continue
                loss = self.loss([train.images[i.image_index] for i in mine], [i.question for i in mine],
                                 [i.target for i in mine])
                (loss * distributed.share_weight(len(batch), part) / cfg.grad_accum).backward()
                losses[step] += loss.detach().double() * kept / cfg.grad_accum
            distributed.average_gradients(trainable)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if (step + 1) % shown_every == 0:
                bar.set_postfix(loss=float(losses[step]))  # this rank's share of the step's loss
        losses = distributed.sum_over_ranks(losses).cpu().numpy().tolist()
        self.model.eval()
        self.ctx.note("train_steps", total)
        self.ctx.note("train_questions", len(items))
        self.ctx.note("train_loss_first", losses[0])
        self.ctx.note("train_loss_last", losses[-1])
        if folder is not None and distributed.is_main():
            self.save_adapter(folder)
            self.ctx.note("adapter", str(folder))
        return self

    # ---- adapter files ----------------------------------------------------------------------
    def save_adapter(self, folder: str | Path) -> Path:
        """Write only the LoRA weights (safetensors) and their config, atomically."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
        try:
            self.model.save_pretrained(tmp, safe_serialization=True, save_embedding_layers=False)
            (tmp / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return folder

    def load_adapter(self, folder: str | Path) -> None:
        """Load LoRA weights saved by :meth:`save_adapter` into this model's adapters."""
        path = Path(folder) / ADAPTER_FILE
        if not path.is_file():
            raise ConfigError(f"no adapter at {path}")
        result = set_peft_model_state_dict(self.model, load_file(str(path), device=str(self.device)))
        missing = [k for k in result.missing_keys if "lora_" in k]
        if missing or result.unexpected_keys:
            raise ConfigError(
                f"adapter {path} does not fit this model: {len(missing)} missing LoRA weights "
                f"(e.g. {missing[:1]}), unexpected {list(result.unexpected_keys)[:1]}"
            )
        self.model.eval()

    # ---- answering --------------------------------------------------------------------------
    def answer(self, images: np.ndarray, questions: list[str]) -> list[str]:
        """Greedy answers: ``uint8[n, H, W, 3]`` and n questions -> n strings."""
        with torch_threads(self._cpu_threads), torch.no_grad():
            return self._answer(images, questions)

    def _answer(self, images: np.ndarray, questions: list[str]) -> list[str]:
        tokenizer = self.processor.tokenizer
        answers: list[str] = []
        size = self.config.answer_batch_size
        for start in range(0, len(questions), size):
            batch = self.encode(images[start: start + size], questions[start: start + size])
            generated = self.model.generate(**batch, generation_config=self.generation)
            new_tokens = generated[:, batch["input_ids"].shape[1]:]
            texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            answers += [text.strip()[:MAX_ANSWER_CHARS] for text in texts]
        return answers


def create(config: LlamaLoraConfig, ctx: RunContext) -> LlamaLoraInterpreter:
    return LlamaLoraInterpreter(config, ctx)
