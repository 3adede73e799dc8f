"""The lecture tour: the lecture's storyline as prepared states of the pages, in order.

Each step opens one page in one state, in presentation mode, on the section that makes the point, with a
sentence of what to look at and a question to ask the room before the reveal. ``/tour?step=7`` opens step 7;
the tour bar on the page (``layout.page_header``) has previous/next. The states are tested like the
registry's deep links (``tests/pages/test_tour.py``).

Pure data: importing this module does not import streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    page: str  # url_path of the page
    params: dict[str, str] = field(default_factory=dict)
    section: int = 1
    look: str = ""  # one sentence: what to look at
    ask: str = ""  # a question for the room, before the reveal


STEPS: tuple[Step, ...] = (
    Step("losses", {"table": "Lecture"}, 1,
         "The lecture's scores for cat, car and bird, and the hinge loss of each image.",
         "Which image has zero hinge loss, and why is zero loss not the end of the story?"),
    Step("losses", {"scale": "3"}, 2,
         "Multiply W by c: the hinge loss stays zero for every c ≥ 1, the L2 penalty grows like c².",
         "If many W give zero loss, which one should we prefer — and who decides?"),
    Step("losses", {"reg": "L1"}, 3,
         "With L1, the solution sits on a corner of the diamond: one weight is exactly zero.",
         "What happens to the weights if we switch to L2 at the same λ?"),
    Step("losses", {"reg": "L2"}, 3,
         "With L2, the ball is round: both weights shrink, neither becomes exactly zero.",
         "Which penalty would you use to select features?"),
    Step("bias-variance", {"spread": "5"}, 1,
         "A wide spread: every fit is nearly the same, and all are wrong in the same way (bias).",
         "What will happen to the fits if we make the basis functions narrow?"),
    Step("bias-variance", {"spread": "0.1"}, 1,
         "A narrow spread: the fits follow each sample's noise; their average is close to the truth (variance).",
         "Which of the two pictures has the lower test error — and can you tell without the numbers?"),
    Step("bias-variance", {}, 2,
         "Bias² falls and variance rises with flexibility; their sum is a U with a minimum in between.",
         "Where is the best spread, and does it depend on the number of training points?"),
    Step("bias-variance", {}, 3,
         "Beyond the lecture: past the interpolation point p = n the test error falls again.",
         "What does a little ridge penalty do to the peak?"),
    Step("landscapes", {"surface": "Quadratic", "kappa": "10"}, 1,
         "Gradient descent, momentum and Adam on an elongated bowl: zig-zag versus a smooth path.",
         "Why does plain GD zig-zag across the valley?"),
    Step("landscapes", {"surface": "Quadratic", "kappa": "10"}, 2,
         "Drag the step size across 2/L: just below it GD converges, just above it diverges.",
         "What sets the largest step size that still converges?"),
    Step("landscapes", {"surface": "Saddle", "sx": "-2", "sy": "0"}, 1,
         "Started exactly on the ridge of a saddle, gradient descent never leaves it.",
         "Which optimizer escapes first, and why?"),
    Step("landscapes", {"dim": "1000"}, 4,
         "Random search against following the gradient as the dimension grows.",
         "How many random guesses would we need in 1000 dimensions?"),
    Step("sgd", {}, 1,
         "The same runs measured three ways: per update, per epoch, per gradient computed.",
         "Which batch size is fastest — and by which clock?"),
    Step("sgd", {}, 3,
         "The spread of minibatch gradients shrinks like 1/B.",
         "If we quadruple the batch, how much less noisy is the gradient?"),
    Step("sgd", {}, 4,
         "With a constant step size SGD does not converge: it hovers at a floor set by η/B.",
         "How can we get below the floor?"),
    Step("splits", {}, 1,
         "Training error, tuning on the test set, and a proper validation split, against the true error.",
         "Which reported number can we trust?"),
    Step("splits", {"bk": "1000", "nt": "1000"}, 2,
         "Pick the best of many models on one test set, and the winner's score is optimistic.",
         "How optimistic is the best of 1000 coin-flipping models?"),
    Step("splits", {"esl_p": "1000", "esl_keep": "20"}, 4,
         "Choosing features on all the data before cross-validation: the error looks far too good.",
         "Where exactly did the test data leak in?"),
    Step("ct", {}, 1,
         "TV from 20, 30 and 40 views against filtered back-projection at 40 views.",
         "How many views would FBP need to look as good as TV at 20?"),
    Step("ct", {"views": "20"}, 2,
         "At 20 views FBP streaks; TV, which prefers flat regions with sharp edges, does not.",
         "What kind of image would make TV's assumption fail?"),
    Step("ct", {"phantom": "Smooth", "views": "40"}, 2,
         "A smooth phantom without edges: TV's model no longer holds.",
         "Does TV still beat FBP here — and by how much?"),
    Step("ct", {"i0": "10000", "lam": "0.001", "views": "40"}, 2,
         "Low dose: Poisson noise in every ray. A larger λ trades noise for flat patches.",
         "What would you tell a radiologist about choosing λ?"),
    Step("ct", {}, 3,
         "Data made with the reconstruction's own projector (the inverse crime) against honest data.",
         "Does the crime make TV look better or worse here — and where does it move the best λ?"),
    Step("ct", {}, 4,
         "Image quality against the number of views for every method.",
         "At what number of views does the choice of method stop mattering?"),
)


def step(k: int) -> Step:
    """Step ``k`` (1-based), clamped to the tour."""
    return STEPS[min(max(int(k), 1), len(STEPS)) - 1]


def url_params(k: int) -> dict[str, str]:
    """The query parameters that open step ``k`` on its page."""
    s = step(k)
    return {**s.params, "present": "1", "section": str(s.section), "tour": str(k)}
