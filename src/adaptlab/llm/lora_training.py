"""What the SFT and DPO trainers share: LoRA, training arguments, checkpoints and resume, MLflow, the
adapter's manifest (which base and template it belongs to)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from adaptlab.errors import AdaptlabError
from adaptlab.llm.train_config import LoraTrainConfig
from adaptlab.tracking.mlflow_runs import RunLogger

MANIFEST = "adaptlab_llm.json"


def lora_config(cfg: LoraTrainConfig) -> Any:
    from peft import LoraConfig

    targets: Any = "all-linear" if cfg.target_modules == ["all-linear"] else list(cfg.target_modules)
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        bias="none",
    )


def checkpoint_dir(cfg: LoraTrainConfig) -> Path:
    return Path(cfg.output) / "checkpoints"


def last_checkpoint(cfg: LoraTrainConfig) -> str | None:
    """The newest complete checkpoint of an interrupted run with the same output, to resume from.

    A run killed while writing a checkpoint leaves it without trainer_state.json (written last); it is passed
    over for the one before.
    """
    folder = checkpoint_dir(cfg)
    found = (
        [
            (int(p.name.split("-")[1]), p)
            for p in folder.glob("checkpoint-*")
            if p.name.split("-")[1].isdigit()
        ]
        if folder.is_dir()
        else []
    )
    complete = [p for _, p in sorted(found, reverse=True) if (p / "trainer_state.json").is_file()]
    return str(complete[0]) if complete else None


def training_kwargs(cfg: LoraTrainConfig, has_eval: bool) -> dict[str, Any]:
    """TrainingArguments shared by trl's SFTConfig and DPOConfig."""
    import torch

    cuda = torch.cuda.is_available()
    if cfg.precision != "fp32" and not cuda:
        raise AdaptlabError(f"precision {cfg.precision} needs a GPU; use --precision fp32 on CPU")
    evaluate = has_eval and cfg.eval_steps is not None
    return dict(
        output_dir=str(checkpoint_dir(cfg)),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation,
        auto_find_batch_size=cuda,  # halve the batch on CUDA out-of-memory (CPU runs out differently)
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a ratio of the total steps
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=cfg.eval_steps if evaluate else None,
        load_best_model_at_end=bool(evaluate and cfg.early_stopping_patience),
        metric_for_best_model="eval_loss" if evaluate else None,
        fp16=cfg.precision == "fp16",
        bf16=cfg.precision == "bf16",
        gradient_checkpointing=cfg.gradient_checkpointing,
        seed=cfg.seed,
        report_to="none",
        use_cpu=not cuda,
        dataloader_num_workers=0,
        max_length=cfg.max_length,
    )


def callbacks(cfg: LoraTrainConfig, logger: RunLogger, has_eval: bool) -> list[Any]:
    from transformers import EarlyStoppingCallback

    found: list[Any] = [mlflow_callback(logger)]
    if has_eval and cfg.eval_steps and cfg.early_stopping_patience:
        found.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    return found


def mlflow_callback(logger: RunLogger) -> Any:
    """Every loss the trainer logs goes to the run as a metric at its step (the loss curve)."""
    from transformers import TrainerCallback

    class _MlflowLoss(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001, ANN003
            numbers = {k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}
            logger.log_metrics(numbers, step=state.global_step)

    return _MlflowLoss()


def load_base(cfg: LoraTrainConfig, cache_dir: Path | None) -> tuple[Any, Any]:
    """Tokenizer and base model for training; QLoRA loads the base in 4 bit (CUDA + bitsandbytes)."""
    from adaptlab.llm.models import load_model, model_folder

    if not cfg.qlora:
        tokenizer, model = load_model(cfg.model, cache_dir)
        model.train()
        return tokenizer, model
    import torch

    if not torch.cuda.is_available():
        raise AdaptlabError("QLoRA (4-bit) needs a CUDA GPU and bitsandbytes; drop --qlora on CPU")
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
        from peft import prepare_model_for_kbit_training
    except ImportError as exc:  # pragma: no cover - GPU installs only
        raise AdaptlabError(f"QLoRA needs bitsandbytes: pip install bitsandbytes ({exc})") from None
    folder = model_folder(cfg.model, cache_dir)
    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if cfg.precision == "bf16" else torch.float16,
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=quant, device_map="auto")
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def save_adapter(
    trainer: Any, tokenizer: Any, cfg: LoraTrainConfig, method: str, extra: dict[str, Any]
) -> Path:
    """The adapter, its tokenizer and a manifest naming base and template, so merge/eval/chat need no flags."""
    out = Path(cfg.output)
    trainer.model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    manifest = {
        "method": method,
        "base_model": cfg.model,
        "template": cfg.template,
        "saved_at": time.time(),
        **extra,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def log_adapter(logger: RunLogger, adapter: Path) -> None:
    """The adapter's files (not its checkpoints) as the run's `adapter` artifact."""
    for path in sorted(Path(adapter).iterdir()):
        if path.is_file():
            logger.log_artifact(path, artifact_path="adapter")


def read_manifest(adapter: Path) -> dict[str, Any]:
    path = Path(adapter) / MANIFEST
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def loss_history(trainer: Any) -> list[dict[str, float]]:
    return [
        {k: v for k, v in entry.items() if isinstance(v, (int, float))} for entry in trainer.state.log_history
    ]
