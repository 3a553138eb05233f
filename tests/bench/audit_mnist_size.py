"""audit_mnist_size: the whole audit at 60,000 training images against one training of the same
config (see audit_digits); goal: the duplicate search within 10 s."""
from __future__ import annotations

from tests.bench.audit_digits import audit_figures
from tests.bench.common import Figure, tmp_dir, write_mnist_60k


def audit_mnist_size(repeats: int) -> list[Figure]:
    """60,000 + 10,000 generated 28x28 images in MNIST's IDX files, an MLP, 2 folds x 1 epoch."""
    from core.audit.report import AuditOptions

    options = AuditOptions(folds=2, epochs=1, model="mlp", model_params=(("hidden", [128]),),
                           max_minutes=120)
    with tmp_dir("mnist") as root:
        write_mnist_60k(root)
        return audit_figures("audit_mnist_size", f"mnist?root={root}", options, repeats,
                              dup_goal=10.0)
