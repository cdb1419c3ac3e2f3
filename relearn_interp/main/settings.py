"""What the main job runs (`ReproduceSettings`), sized per preset for two CPU cores."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from relearn_interp.layout import ERASURE, VANILLA, train_stage
from unlearn.errors import UserError
from unlearn.precision import check_mixed_precision
from unlearn.presets import PRESETS

# Settings that run summaries of earlier versions hold and this one no longer has: the erasure
# probes as a tuple of command-line flags (now the typed `erasure_*` fields). `relearn-interp
# figures` still redraws such a run; it reads none of them.
LEGACY_SETTINGS = ("erasure_args",)


@dataclass(frozen=True)
class ReproduceSettings:
    """What the main job runs; `for_preset` sizes it for two CPU cores.

    Every method trains to one forget target (`target_recall`, checked every `check_every[family]`
    optimizer steps; the preset's epochs are only the cap), the retain terms train on
    `retainNN_train` and KRR is scored on the held-out `retainNN_eval`.
    """

    preset: str
    authors: int = 20
    seed: int = 0
    forget_pct: int = 15
    methods: tuple[str, ...] = ("ga_gdr", "npo_gdr", "ga_gdr_sure", "npo_gdr_sure", "relearn")
    augment_backend: str = "template"
    target_recall: float = 0.2
    check_every: dict = field(default_factory=lambda: {"ga": 1, "npo": 1, "relearn": 4})
    check_near_target: float = 0.25
    eval_limit: int | None = None
    precisions: tuple[str, ...] = ("float16", "bfloat16")
    lens_prompts: int | None = None
    shift_prompts: int | None = None
    circuit_method: str = "eap-ig"
    circuit_ig_steps: int = 5
    circuit_partners: int = 3
    circuit_target: float = 0.8
    # Erasure probes: 32 new tokens per recall answer (the benchmark's answers state the object
    # within ~20), a 5-step relearning attack of 4 records a step, int8 and int4; the patching and
    # the attack's autocast come from `mixed_precision` (default auto).
    erasure_max_new_tokens: int = 32
    erasure_relearn_steps: int = 5
    erasure_relearn_batch: int = 4
    erasure_bits: tuple[int, ...] = (8, 4)
    train_overrides: dict = field(default_factory=dict)
    vanilla: str | None = None  # an existing vanilla checkpoint: skips the fine-tuning stage
    # bf16 autocast of every stage that trains or patches: auto, no or bf16; None = each stage's
    # preset default (smollm2-135m: auto everywhere; tiny: no for training, auto for erasure)
    mixed_precision: str | None = None

    @classmethod
    def for_preset(cls, preset: str, **overrides) -> ReproduceSettings:
        if preset not in PRESETS:
            raise UserError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
        # Both presets forget 3 authors (33 facts) and score 3 held-out retain authors (33 facts):
        # tiny forgets 15% of 20 authors, smollm2-135m 30% of 10 (its vanilla stage memorises
        # 110 facts in ~7 minutes on two cores).
        sized = {
            "tiny": {},
            "smollm2-135m": {
                "authors": 10,
                "forget_pct": 30,
                "check_every": {"ga": 2, "npo": 2, "relearn": 8},
                # EAP-IG(3) costs ~8 min for six checkpoints here, EAP ~5; EAP ranks edges like
                # EAP-IG(5) (Spearman 0.89, held-out CPR 0.986 vs 0.984; docs/knowledge-circuits.md).
                "circuit_method": "eap",
            },
        }[preset]
        settings = cls(preset=preset, **sized)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_summary(cls, settings: dict) -> ReproduceSettings:
        """The settings a run summary (run.json) recorded, JSON lists back as tuples (keys of
        summaries written before issue 24, `LEGACY_SETTINGS`, are not read)."""
        return cls(
            **{
                key: tuple(value) if isinstance(value, list) else value
                for key, value in settings.items()
                if key not in LEGACY_SETTINGS
            }
        )

    @property
    def forget_split(self) -> str:
        return f"forget{self.forget_pct:02d}"

    @property
    def retain_split(self) -> str:
        return f"retain{100 - self.forget_pct:02d}"

    @property
    def retain_train_split(self) -> str:
        return f"{self.retain_split}_train"

    @property
    def retain_eval_split(self) -> str:
        return f"{self.retain_split}_eval"

    def stage_precision(self) -> dict[str, str]:
        """The autocast each training or patching stage asks for (before resolving `auto`)."""
        from unlearn.training.config import TrainConfig
        from unlearn.training.finetune import FinetuneConfig

        if self.mixed_precision is not None:
            check_mixed_precision(self.mixed_precision, "--mixed-precision")
        asked = {VANILLA: FinetuneConfig.for_preset(self.preset).mixed_precision}
        for method in self.methods:
            asked[train_stage(method)] = TrainConfig.for_preset(self.preset, method).mixed_precision
        asked[ERASURE] = "auto"
        return {stage: self.mixed_precision or value for stage, value in asked.items()}

    def train_settings(self, method: str) -> dict:
        """The stop rule and overrides one method trains with (checked every
        `check_every[family]` steps, the family being the method's `Method.family`)."""
        from unlearn.methods import get_method

        return {
            "stop_at_recall": self.target_recall,
            "check_every": self.check_every.get(get_method(method).family, 0),
            "check_near_target": self.check_near_target,
            **self.train_overrides,
        }
