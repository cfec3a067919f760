"""Importing the classifier is free: numpy, scipy and scikit-learn load only when a model is
trained or loaded, so the web app's and the CLI's start-up stay fast; a loaded model then
predicts with numpy alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hubdesk.classifier.model import TrainingConfig, train
from tests.unit.classifier.messages import build_raw, ham_spam_samples

HEAVY = ("numpy", "scipy", "sklearn")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_importing_every_classifier_module_loads_no_numeric_library() -> None:
    loaded = _modules_after(
        "import hubdesk.classifier, hubdesk.classifier.corpus, hubdesk.classifier.features, "
        "hubdesk.classifier.model, hubdesk.classifier.evaluation"
    )
    assert "hubdesk.classifier.model" in loaded
    assert not {name for name in loaded if name.split(".")[0] in HEAVY}


def test_a_loaded_model_predicts_with_numpy_alone(tmp_path: Path) -> None:
    stored = tmp_path / "model.json.gz"
    # The argmax decision: a 28-message model is less sure (p(spam) 0.93 here) than the
    # default operating point (0.91), which is set for a real corpus.
    stored.write_bytes(train(ham_spam_samples(), TrainingConfig(spam_threshold=0.5)).to_bytes())
    message = tmp_path / "m.eml"
    message.write_bytes(build_raw("VIND NU!!!", "Klik her og vind gratis penge!"))
    loaded = _modules_after(
        "from pathlib import Path\n"
        "from hubdesk.classifier.model import TrainedModel\n"
        "from hubdesk.mail.parse import parse_email\n"
        f"model = TrainedModel.from_bytes(Path({str(stored)!r}).read_bytes())\n"
        f"print(model.predict(parse_email(Path({str(message)!r}).read_bytes())).label)"
    )
    assert "spam" in loaded
    assert "numpy" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("scipy", "sklearn")}
