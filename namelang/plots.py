"""matplotlib figures (Agg backend, no display needed): the loss curve and the confusion heat-map."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    from namelang.extras import import_pyplot

    return import_pyplot("drawing a PNG needs matplotlib")


def loss_curve(history: list[dict], path: Path, title: str = "", best_epoch: int = 0) -> None:
    """The article's loss curve: training and validation loss per epoch, the kept epoch marked."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    ax.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train loss")
    ax.plot(epochs, [h["val_loss"] for h in history], marker="o", label="validation loss")
    if best_epoch:
        ax.axvline(best_epoch, color="grey", linestyle="--", label=f"best (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(title or "loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


DPI = 100


def confusion_figsize(n_labels: int) -> tuple[float, float]:
    """Inches: room for the colour bar beside a square grid that grows with the labels."""
    side = max(6.0, 0.5 * n_labels + 2)
    return side + 1.5, side


def cell_label(value: float, normalized: bool) -> str:
    """A cell's text in the figure; blank when it would print as zero (a tiny share is not a confusion)."""
    text = f"{value:.2f}" if normalized else f"{value:.0f}"
    return "" if float(text) == 0 else text


def confusion_heatmap(matrix, labels: list[str], path: Path, title: str, normalized: bool) -> None:
    """Rows are true labels, columns predictions, as in the article; values in the cells."""
    import numpy as np

    plt = _pyplot()
    n = len(labels)
    fig, ax = plt.subplots(figsize=confusion_figsize(n), dpi=DPI)
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels, rotation=90)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    peak = float(np.max(matrix)) if np.size(matrix) else 0.0
    for i in range(n):
        for j in range(n):
            value = float(matrix[i][j])
            text = cell_label(value, normalized)
            if text:
                colour = "white" if value > peak / 2 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
