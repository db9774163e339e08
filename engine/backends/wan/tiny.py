"""A tiny random-weight Wan2.2-TI2V pipeline, built from configs in code.

It is the real diffusers ``WanPipeline`` (UMT5 text encoder, UniPC flow scheduler, transformer with
expanded timesteps, residual Wan2.2 VAE with 48 latent channels and 16x spatial compression) shrunk
until it runs on a CPU in seconds. Tests use it to drive every code path the full model takes; its
frames are noise.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

from reactclip.engine.backends.wan.backend import WanBackend

TINY_TEXT_DIM = 32
LATENT_CHANNELS = 48  # Wan2.2's VAE; the tiny one keeps the real channel count and compression
SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]


def build_offline_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level tokenizer made without any download: every UTF-8 byte is a token, and ``</s>``
    ends each sequence the way UMT5's tokenizer does."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + sorted(alphabet))}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=512,
    )


def build_tiny_wan_pipeline(seed: int = 0) -> WanPipeline:
    """The tiny pipeline; the same ``seed`` gives the same weights."""
    tokenizer = build_offline_tokenizer()
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=TINY_TEXT_DIM,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            feed_forward_proj="gated-gelu",
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    vae = AutoencoderKLWan(
        base_dim=8,
        decoder_base_dim=16,
        z_dim=LATENT_CHANNELS,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * LATENT_CHANNELS,
        latents_std=[1.0] * LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        text_dim=TINY_TEXT_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=64,
    )
    # Built directly, modules start in training mode (UMT5's dropout would make every run differ);
    # from_pretrained puts them in eval mode, and so do we.
    text_encoder.eval()
    vae.eval()
    transformer.eval()
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0
    )
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=scheduler,
        transformer=transformer,
        expand_timesteps=True,
    )


TINY_VARIANT = "tiny-random-wan-v1"


def tiny_backend(seed: int = 0) -> WanBackend:
    """The tiny pipeline behind the ordinary WanBackend, on the CPU."""
    return WanBackend(build_tiny_wan_pipeline(seed), torch.device("cpu"), name="tiny", variant=TINY_VARIANT)
