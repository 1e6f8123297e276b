SCHEMA = "schema {\n  prompt : text\n}\n"


def finetune(method: str, *lines: str) -> str:
    return SCHEMA + f"finetune {method} {{\n" + "".join(f"  {x}\n" for x in lines) + "}\n"


def test_every_method_with_its_settings(codes):
    common = ('base "org/model"', "epochs 3", "lr 2e-4", "batch_size 8", "max_length 512", "gpu A100",
              "gpu_tflops 312", "utilization 40%", "gpu_power_w 400", "carbon_kg_per_kwh 0", "gpu_count 2")
    assert codes(finetune("full", *common)) == []
    assert codes(finetune("lora", *common, "r 8", "alpha 16", "dropout 0", "target q_proj, v_proj")) == []
    assert codes(finetune("prompt_tuning", *common, "virtual_tokens 20", 'init_text "Answer:"')) == []


def test_unknown_settings_with_suggestions(diags):
    found = diags(finetune("lora", 'base "m"', "rank 8", "epoch 3", "flux 1"))
    assert [(d.code, d.hint) for d in found] == [
        ("DSC216", "did you mean 'r'?"),
        ("DSC216", "did you mean 'epochs'?"),
        ("DSC216", "lora takes: base, epochs, lr, batch_size, max_length, gpu, gpu_tflops, utilization, "
                   "gpu_power_w, carbon_kg_per_kwh, gpu_count, pue, gpu_memory_gb, precision, optimizer, loss, r, "
                   "alpha, dropout, target"),
    ]


def test_a_setting_of_another_method(diags):
    (d,) = diags(finetune("full", 'base "m"', "r 8"))
    assert (d.code, d.message) == ("DSC217", "'r' is a 'lora' setting, not a full one")


def test_values(diags):
    found = diags(finetune("lora", 'base "m"', "epochs 0", "lr 0", 'r "8"', "dropout 1", "gpu 3", "r 4",
                           "target 1", "utilization 120%", "epochs 2, 3"))
    assert [(d.code, d.message) for d in found] == [
        ("DSC209", "'epochs' must be a whole number from 1 to 10000, not 0"),
        ("DSC209", "'lr' must be in (0, 10], not 0"),
        ("DSC209", "'r' must be a number (a whole number from 1 to 65536)"),
        ("DSC209", "'dropout' must be in [0, 1), not 1"),
        ("DSC209", "'gpu' is a name, not a number"),
        ("DSC214", "'r' is given twice"),
        ("DSC209", "'target' lists module names"),
        ("DSC212", "'utilization' asks for a GPU-hours estimate, which also needs 'gpu_tflops'"),
        ("DSC209", "'utilization' must be in (0%, 100%], not 120%"),
        ("DSC214", "'epochs' is given twice"),
        ("DSC217", "'epochs' takes one value"),
    ]


def test_methods(diags):
    found = diags(finetune("qlora", 'base "m"', "r 8") + finetune("lora", "r 8").replace(SCHEMA, "")
                  + finetune("lora", 'base "m"').replace(SCHEMA, ""))
    assert [(d.code, d.message) for d in found] == [
        ("DSC203", "unknown fine-tuning method 'qlora'"),
        ("DSC212", "finetune has no 'base' model, so no training configuration or parameter estimate can be made"),
        ("DSC202", "a second 'finetune lora' block"),
    ]


def test_loss_covers_the_completion_or_all_of_the_text(codes, diags):
    assert codes(finetune("lora", 'base "m"', "loss all")) == codes(finetune("full", 'base "m"', "loss completion")) == []
    (d,) = diags(finetune("lora", 'base "m"', "loss whole"))
    assert (d.code, d.message, d.hint) == ("DSC203", "unknown loss 'whole'", "expected 'completion' or 'all'")
    (d,) = diags(finetune("lora", 'base "m"', "completion_only_loss false"))
    assert (d.code, d.hint) == ("DSC216", "did you mean 'loss'?")
