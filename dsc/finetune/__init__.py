"""Fine-tuning: a `finetune` block compiled into a training configuration, with estimates.

The flow, one module per stage:

    FinetunePlan ──settings──▶ Recipe (every value, default or written)
    base "…"     ──model────▶ BaseModel (a local folder, or a pinned hub id from the local cache)
                 ──params───▶ ModelFacts (exact counts from the config, built on the meta device)
    train split  ──rows/tokens──▶ TokenStats (the base tokenizer, or a labelled approximation)
    all of them  ──estimate──▶ parameters, FLOPs, memory, GPU-hours, kWh, CO2, warnings
                 ──config───▶ peft_config.json, training_args.json, train.py
                 ──compare──▶ full vs LoRA vs prompt tuning, as a table and as JSON

`compute` holds the formulas as pure functions; only `model` and `params` import torch,
transformers or peft, and only inside functions, so `dsc check` never pays for them.
"""
