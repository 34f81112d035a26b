"""Which modules get LoRA adapters: every linear layer except ``lm_head`` (and ``embed_tokens``).

The paper applies LoRA to all layers but ``lm_head`` and ``embed_tokens``. In Mllama the
layers LoRA can adapt are the ``nn.Linear`` modules, found by walking the model, so the list is
right for any size (the tiny model, 11B, 90B):

* vision encoder, local and global transformers: ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``,
  ``mlp.fc1``, ``mlp.fc2``;
* the projector from vision features to the text width: ``multi_modal_projector``;
* text decoder, self-attention layers: ``q/k/v/o_proj`` and ``mlp.gate/up/down_proj``;
* text decoder, cross-attention layers (which read the image): ``cross_attn.q/k/v/o_proj`` and
  their ``mlp.gate/up/down_proj``.

Not adapted (they are not linear layers, and stay frozen): the vision patch embedding (a
convolution), the class, positional and tile embeddings and the tanh gates (parameters), the
layer norms, ``embed_tokens`` (an embedding) and ``lm_head`` (excluded by name).
"""

from __future__ import annotations

from torch import nn

EXCLUDED: tuple[str, ...] = ("lm_head", "embed_tokens")


def lora_target_modules(model: nn.Module) -> list[str]:
    """Full names of every ``nn.Linear`` in ``model`` whose own name is not in :data:`EXCLUDED`."""
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name.rsplit(".", 1)[-1] not in EXCLUDED
    ]
