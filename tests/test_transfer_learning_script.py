"""scripts/transfer_learning.py runs end to end on a tiny configuration (its main function, in this process)."""
import importlib.util
import os
from pathlib import Path

import h5py
import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "transfer_learning.py"


def load_script():
    spec = importlib.util.spec_from_file_location("transfer_learning_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_learning_script_writes_folders_weights_and_trains_both_stages(tmp_path, capsys):
    script = load_script()
    out = tmp_path / "out"
    results = script.main(["--size", "32", "--per-class", "8", "--pretrain-epochs", "1", "--epochs", "1",
                           "--fine-tune-epochs", "1", "--batch-size", "8", "--out", str(out)])
    # the folder flow_from_directory reads: 8 images per digit, a quarter of them for validation
    for subset, count in (("train", 6), ("validation", 2)):
        folders = sorted(os.listdir(out / "images" / subset))
        assert folders == [f"digit_{d}" for d in range(5, 10)]
        assert all(len(os.listdir(out / "images" / subset / f)) == count for f in folders)
    # a Keras weights file of the base alone (no top), as Keras's own *_no_top.h5 files
    with h5py.File(out / "mobilenet_v2_digits_0-4_no_top.h5", "r") as f:
        layer_names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]
    assert "Conv_1" in layer_names and "block_16_project_BN" in layer_names and "Logits" not in layer_names
    for name in ("pretrained base", "random base"):
        stages = results[name]
        assert len(stages["head"]["val_accuracy"]) == 1 and len(stages["fine_tune"]["val_accuracy"]) == 1
        assert 0.0 <= stages["val_accuracy"] <= 1.0
        np.testing.assert_allclose(stages["val_accuracy"], stages["fine_tune"]["val_accuracy"][-1], atol=1e-6)
    printed = capsys.readouterr().out
    assert "Found 30 images belonging to 5 classes." in printed and "after fine-tuning the top block" in printed
    assert (out / "history.json").exists()
