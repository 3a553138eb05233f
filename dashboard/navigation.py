"""The page list, in one place: the app entry builds navigation from it, Home links to it."""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    file: str
    title: str
    icon: str  # Material icons come from the font Streamlit bundles (only a favicon is fetched)
    url_path: str
    blurb: str
    default: bool = False

    @property
    def path(self) -> str:
        """Absolute file path: how st.Page and st.page_link name the same page."""
        return str(ROOT / self.file)


PAGES = [
    PageInfo("pages/home.py", "Home", ":material/home:", "home", "Where to start.", default=True),
    PageInfo("pages/data.py", "Data", ":material/photo_library:", "data",
             "Look at a dataset: how many images per split and class, how skewed the classes "
             "are, random samples per class, and what preprocessing does to them."),
    PageInfo("pages/train.py", "Train", ":material/model_training:", "train",
             "Train a classifier or an autoencoder and watch its loss curves live; runs keep going "
             "when you leave the page, and two can run at once."),
    PageInfo("pages/runs.py", "Runs", ":material/table_rows:", "runs",
             "Every run, shipped ones included: compare curves, rename, delete, download, resume."),
    PageInfo("pages/sweep.py", "Sweep", ":material/tune:", "sweep",
             "A family of runs defined once: axes over any training or dataset option, grid, "
             "random or TPE search, pruning; then which setting mattered."),
    PageInfo("pages/evaluate.py", "Evaluate", ":material/fact_check:", "evaluate",
             "How good is a classifier: balanced accuracy and F1 per class, the confusion matrix "
             "with the images in each cell, ROC curves, the most confident mistakes."),
    PageInfo("pages/anomaly.py", "Anomaly", ":material/troubleshoot:", "anomaly",
             "Tune an anomaly threshold by hand on an autoencoder's scores, with the confusion "
             "matrix, ROC/PR curves and the images it gets wrong following the slider."),
    PageInfo("pages/predict.py", "Predict", ":material/online_prediction:", "predict",
             "Apply a run and the threshold tuned for it to new images: drop a folder or a zip, "
             "see what is flagged and how the new scores compare, download the decisions as CSV "
             "and the run as a bundle for another machine."),
    PageInfo("pages/latent.py", "Latent", ":material/scatter_plot:", "latent",
             "See how a model organises the images: codes projected to 2-D to select from, class "
             "centres, disputable images, mixture clusters, and images generated between two classes."),
    PageInfo("pages/audit.py", "Audit", ":material/rule:", "audit",
             "Find likely label errors and copies of test images in train, decide keep / relabel / "
             "exclude per image, train again with the fixes and compare."),
]
