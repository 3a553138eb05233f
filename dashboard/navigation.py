"""The page list, in one place: the app entry builds navigation from it, Home links to it."""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    file: str
    title: str
    icon: str  # an emoji: Material icons would be fetched from a font server
    url_path: str
    blurb: str
    default: bool = False

    @property
    def path(self) -> str:
        """Absolute file path: how st.Page and st.page_link name the same page."""
        return str(ROOT / self.file)


PAGES = [
    PageInfo("pages/home.py", "Home", "🏠", "home", "Where to start.", default=True),
    PageInfo("pages/data.py", "Data", "🖼️", "data",
             "Look at a dataset: how many images per split and class, how skewed the classes "
             "are, random samples per class, and what preprocessing does to them."),
    PageInfo("pages/train.py", "Train", "🏋️", "train",
             "Train a classifier or an autoencoder and watch its loss curves live; runs keep going "
             "when you leave the page, and two can run at once."),
    PageInfo("pages/runs.py", "Runs", "📋", "runs",
             "Every run, shipped ones included: compare curves, rename, delete, download, resume."),
    PageInfo("pages/evaluate.py", "Evaluate", "✅", "evaluate",
             "How good is a classifier: balanced accuracy and F1 per class, the confusion matrix "
             "with the images in each cell, ROC curves, the most confident mistakes."),
    PageInfo("pages/anomaly.py", "Anomaly", "🔎", "anomaly",
             "Tune an anomaly threshold by hand on an autoencoder's scores, with the confusion "
             "matrix, ROC/PR curves and the images it gets wrong following the slider."),
    PageInfo("pages/latent.py", "Latent", "🌌", "latent",
             "See how a model organises the images: codes projected to 2-D to select from, class "
             "centres, disputable images, mixture clusters, and images generated between two classes."),
]
