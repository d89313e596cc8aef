"""Theory solvers side by side with the authors' code: same grids, papers' sizes, same numbers.

For three papers the authors' published theory code and ours solve the same equations on the
same grid, from the same inputs (for the random-feature papers: the same weight matrices, hence
the same Ω). Both are timed in this process, single-threaded (``--threads``, default 1, set with
threadpoolctl for every BLAS), and their results are compared point by point.

==================  ======================================  =====================================
paper               authors' code (run unmodified)          ours
==================  ======================================  =====================================
bayes_extensive     Multilayer_BO.ipynb ``get_error``,      ``equivalent_model`` +
(2302.00375)        Multilayer_Ridge_repl.ipynb             ``bo_regression_overlap``;
                    ``get_error`` / ``get_opt_error``        ``ridge_error`` (at λ* = (ε_eff+Δ)/K)
deep_random_        dRF Ridge.ipynb (Ω, Φ, Ψ + GCMProject   ``layer_moments`` (propagation, eigh)
features            replica solver), Layerwise_Error_       + ``ridge.ridge_test_error``
(2302.00401)        Ridge.ipynb (door, depths 1–6)
rainbow_features    regression.py ``FeatureRidgeRegression``  ``ridge.FeatureMoments`` +
(2402.13999)        (``SCov`` eigh, ``genErrRMT``)          ``ridge_test_error`` / ``optimal_ridge``
==================  ======================================  =====================================

Grids (the authors'): bayes_extensive α = linspace(0, 7.1, 70) without α = 0 (our parameter
validator refuses n = 0), d = 500, tanh(2x), L = 2; deep_random_features d = 600,
k₁ = k₂ = 2400, k* = 1200, tanh, sign target, λ = 0.001, n/d = linspace(0.1, 8, 20) (Ridge)
and door, L = 1…6, n/d = linspace(0.1, 8, 150) (Layerwise); rainbow_features the synthetic-data
experiment's sizes (d = 784, p₁ = 1500, p₂ = 1400) with λ ∈ {0.1, 1, 10, 100} ×
n = unique(geomspace(50, 10⁴, 200)) and the optimal λ at n = geomspace(30, 5000, 50), and the
random-features panel's (d = p = 500, λ = 10⁻³, n = linspace(50, 1000, 50)).

What is fed to both sides, and what is not compared:

* deep_random_features: the notebooks draw their weights with an unseeded (Ridge) or
  differently seeded (Layerwise) ``np.random``; the cell that draws them is not run, and our
  ``draw_weights`` (θ, W*, W₁ … W_L) are put in its variables instead (θ/√k*, the notebooks'
  scale). Everything after it (κ's by quad, Ω, Φ, Ψ, the replica solver) is the authors'.
* rainbow_features: the authors build Ω only from a trained Keras model
  (``FeatureRidgeRegression.linearized``/``empirical``), which needs TensorFlow; both solvers
  start from our closed-form per-neuron Ω, ψ, E y² of a rainbow net of the paper's sizes (not
  timed). regression.py imports polars, icecream and tensorflow at module level but its solver
  uses none of them: where they are not installed, empty stand-in modules let it import.
* bayes_extensive: our ridge row uses the paper's closed-form λ* (Sec. 4), the authors search
  λ numerically (``minimize_scalar``): the speed-up there is mostly the closed form; the fixed-λ
  row compares like with like.

Adaptations of the authors' code, at run time, without editing it:

* The dRF notebooks import the GCM solver from a ``../g3m_utils`` whose version is not
  published; its interface differs from GCMProject's: they call ``Custom(...,
  teacher_student_cov=Φ (student × teacher), teacher=θ, fixed_teacher=True)``; GCMProject's
  ``Custom`` takes ``teacher_weights=θ`` and the cross-covariance as teacher × student (it
  transposes it). The notebooks' namespace gets a ``Custom`` that forwards to GCMProject's with
  ``teacher_weights=teacher`` and Φᵀ.
* Multilayer_Ridge_repl's ``minimize_scalar(error_lamb, (-3, 12))``: numpy ≥ 2 refuses
  ``10**(-np.int64(12))`` (scipy passes the integer bracket through), so its namespace gets a
  ``minimize_scalar`` that passes the bracket as floats.

Layout of ``--authors DIR`` (``git clone`` each repository into DIR; a folder named
``owner+name`` is accepted too)::

    DIR/Bayes_extensive            https://github.com/HugoCui/Bayes_extensive
    DIR/dRF                        https://github.com/HugoCui/dRF
    DIR/GCMProject                 https://github.com/IdePHICS/GCMProject  (state_evolution/)
    DIR/feature-ridge-regression   https://github.com/wirhabenzeit/feature-ridge-regression

Checked against the commits Bayes_extensive 6a22a06, dRF d46ef78, GCMProject dea00b0 and
feature-ridge-regression 8647374 (cells are found by their content: if a notebook changes, the
script stops with the cell it could not find). Without ``--authors`` the script prints these
instructions and times our side only (exit 0). Times are CPU seconds of this single-threaded
process (``time.process_time``: robust to other load on a shared machine; wall-clock speed-ups
are printed too); each side is run the same number of times (3 when the authors' run takes
< 2 s, else once) and the best run counts. Second table: our time against the dense linear
algebra it cannot avoid (the products that build Ω and one eigh per Ω), measured in the same
run on the same matrices.

Run: ``python benchmarks/bench_vs_authors.py --authors DIR [--only drf] [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
import json
import math
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from theorylab.experiments import bayes_extensive as be
from theorylab.experiments import deep_random_features as drf
from theorylab.experiments import rainbow_features as rf
from theorylab.theory import ridge
from theorylab.theory.rainbow import closed_form_moments, teacher_moments

REPOS = {
    "bayes": ("HugoCui", "Bayes_extensive"),
    "drf": ("HugoCui", "dRF"),
    "gcm": ("IdePHICS", "GCMProject"),
    "frr": ("wirhabenzeit", "feature-ridge-regression"),
}
PAPERS = ("bayes", "drf", "layers", "rainbow")


# -- Measuring -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Timed:
    cpu: float
    wall: float
    value: object


def timed(fn: Callable[[], object], repeat: int = 1) -> Timed:
    """Best (by CPU time) of ``repeat`` calls of ``fn``; keeps the last result."""
    best = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        value = fn()
        t = Timed(time.process_time() - c0, time.perf_counter() - w0, value)
        best = t if best is None or t.cpu < best.cpu else dataclasses.replace(best, value=value)
    return best


def side_by_side(authors: Callable | None, ours: Callable) -> tuple[Timed | None, Timed]:
    """Time both sides the same number of times (3 if the authors' run is under 2 s)."""
    if authors is None:
        return None, timed(ours, 3)
    a = timed(authors)
    repeat = 3 if a.cpu < 2.0 else 1
    if repeat > 1:
        a = timed(authors, repeat)
    return a, timed(ours, repeat)


@dataclasses.dataclass
class Row:
    paper: str
    grid: str
    authors: Timed | None
    ours: Timed
    diff: tuple[float, float] | None = None  # max abs, max rel difference
    reference: Timed | None = None  # the unavoidable dense linear algebra of our side
    reference_what: str = ""
    note: str = ""


def differences(theirs, ours) -> tuple[float, float]:
    a, b = np.asarray(theirs, dtype=float), np.asarray(ours, dtype=float)
    d = np.abs(a - b)
    return float(d.max()), float((d / np.abs(b)).max())


@contextlib.contextmanager
def quiet():
    """Swallow the authors' progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# -- Loading the authors' code (never copied: read from --authors at run time) ---------------------


def repo_dir(root: Path, key: str) -> Path:
    owner, name = REPOS[key]
    for candidate in (root / name, root / f"{owner}+{name}"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"{owner}/{name} not found under {root} (as {name}/ or {owner}+{name}/)"
    )


class Notebook:
    """The code cells of a Jupyter notebook, executed on demand in one namespace."""

    def __init__(self, path: Path, namespace: dict | None = None):
        self.path = path
        cells = json.loads(path.read_text())["cells"]
        self.cells = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        self.ns = {} if namespace is None else namespace

    def run(self, *markers: str) -> None:
        """Execute, in the order given, the one code cell containing each marker string."""
        for marker in markers:
            hits = [c for c in self.cells if marker in c]
            if len(hits) != 1:
                raise RuntimeError(
                    f"{self.path.name}: {len(hits)} code cells contain {marker!r} (expected 1; "
                    "the notebook changed since this benchmark was written)"
                )
            with quiet():
                exec(compile(hits[0], f"{self.path.name} [{marker}]", "exec"), self.ns)


def gcm_custom(root: Path):
    """GCMProject's ``Custom`` behind the keyword interface the dRF notebooks call."""
    sys.path.insert(0, str(repo_dir(root, "gcm")))
    from state_evolution.data_models.custom import Custom

    def custom(
        *,
        teacher_teacher_cov,
        student_student_cov,
        teacher_student_cov,
        teacher,
        fixed_teacher=True,
    ):
        return Custom(
            teacher_teacher_cov=teacher_teacher_cov,
            student_student_cov=student_student_cov,
            teacher_student_cov=teacher_student_cov.T,  # GCMProject transposes it back
            teacher_weights=teacher,
        )

    return custom


def feature_ridge_regression(root: Path):
    """The authors' regression.py; stand-ins for its unused module-level imports if missing."""
    for name in ("polars", "icecream", "tensorflow"):
        try:
            importlib.import_module(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.ic = lambda *args, **kwargs: None
            sys.modules[name] = stub
    sys.path.insert(0, str(repo_dir(root, "frr")))
    return importlib.import_module("regression")


# -- bayes_extensive (2302.00375) ------------------------------------------------------------------


def bench_bayes(root: Path | None) -> list[Row]:
    alphas = np.linspace(0.0, 7.1, 70)[1:]  # the notebooks' grid; α = 0 (n = 0) is refused here
    p = be.Params(alpha=tuple(alphas), d=500)
    grid = f"69 α ∈ (0, 7.1], d = 500, L = 2, {p.activation}"
    bo = ridge_nb = None
    if root is not None:
        folder = repo_dir(root, "bayes")
        bo = Notebook(folder / "Multilayer_BO.ipynb")
        bo.run(
            "from math import",
            "Sigma=np.ones(d)",
            "r1=Delta1*",
            "def update_overlaps",
            "def update_hat_overlaps",
            "def damp",
            "def iterate",
            "def get_error",
        )
        ridge_nb = Notebook(folder / "Multilayer_Ridge_repl.ipynb")
        ridge_nb.run(
            "from math import",
            "Sigma=np.ones(d)",
            "phi=lambda",
            "def update_overlaps",
            "def update_hat_overlaps",
            "def damp",
            "def iterate",
            "def get_error",
            "def get_opt_error",
        )
        from scipy.optimize import minimize_scalar

        ridge_nb.ns["minimize_scalar"] = lambda f, bracket, **kw: minimize_scalar(
            f, tuple(float(b) for b in bracket), **kw
        )

    def ours_bo():
        eq = be.equivalent_model(p)
        q = be.bo_regression_overlap(alphas, eq.signal, eq.noise + p.noise).x
        return be.signal_error(eq, np.asarray(q))

    def ours_ridge(lam):
        def run():
            eq = be.equivalent_model(p)
            lams = np.full_like(alphas, be.optimal_penalty(eq, p.noise) if lam is None else lam)
            return be.ridge_error(p, eq, alphas, lams)[0]

        return run

    def authors(nb, name, *args):
        if nb is None:
            return None

        def run():
            with quiet():
                return nb.ns[name](alphas, *args)

        return run

    rows = []
    a, o = side_by_side(authors(bo, "get_error"), ours_bo)
    rows.append(
        Row("bayes_extensive", "BO error, " + grid, a, o, a and differences(a.value[0], o.value))
    )
    for lam in (0.01, 1.0):
        a, o = side_by_side(authors(ridge_nb, "get_error", lam), ours_ridge(lam))
        rows.append(
            Row(
                "bayes_extensive",
                f"ridge λ = {lam:g}, 69 α",
                a,
                o,
                a and differences(a.value[0], o.value),
            )
        )
    a, o = side_by_side(authors(ridge_nb, "get_opt_error"), ours_ridge(None))
    note = "ours: closed-form λ*; authors: minimize_scalar over log λ"
    if a is not None:
        lam_star = be.optimal_penalty(be.equivalent_model(p), p.noise)
        note += f" (their λ within {np.max(np.abs(np.log(np.asarray(a.value[4]) / lam_star))):.1e}"
        note += " in log of ours)"
    rows.append(
        Row(
            "bayes_extensive",
            "ridge at optimal λ, 69 α",
            a,
            o,
            a and differences(a.value[0], o.value),
            note=note,
        )
    )
    t_full = timed(lambda: be.theory(p), 3)
    rows.append(
        Row(
            "bayes_extensive",
            "our whole theory() on that grid",
            None,
            t_full,
            note="BO regression + classification, ridge at λ* and at λ = 0.01, 1",
        )
    )
    return rows


# -- deep_random_features (2302.00401) -------------------------------------------------------------


def drf_reference(weights: list[np.ndarray], every_depth: bool) -> Callable[[], None]:
    """Ω's products layer by layer and one eigh of Ω_L (of every Ω_ℓ if ``every_depth``): the
    dense work any solver of these papers does."""

    def work():
        omega = weights[0] @ weights[0].T
        for w in weights[1:]:
            if every_depth:
                np.linalg.eigh(omega)
            omega = w @ omega @ w.T
        np.linalg.eigh(omega)

    return work


def drf_params(quick: bool, **kw) -> drf.Params:
    size = (
        dict(d=150, gamma=4.0, teacher_ratio=2.0)
        if quick
        else dict(d=600, gamma=4.0, teacher_ratio=2.0)
    )
    return drf.Params(**size, weight_seed=7, **kw)


def bench_drf(root: Path | None, quick: bool) -> list[Row]:
    p = drf_params(quick, depth=(2,), lam=(0.001,))
    d, k, kt = p.d, p.width, p.teacher_width
    w = drf.draw_weights(p)
    alphas = np.linspace(0.1, 8, 20)  # n/d, the notebook's grid (it passes n/k to the solver)
    n = alphas * d
    authors = None
    if root is not None:
        nb = Notebook(repo_dir(root, "drf") / "Ridge.ipynb")
        custom = gcm_custom(root)
        nb.run("import sys", "k1=2400")
        nb.ns.update(Custom=custom, d=d, k1=k, k2=k, kt=kt)
        nb.run("def door", "alphas=np.linspace", "lamb=0.001")
        nb.ns.update(
            theta=w.theta / math.sqrt(kt),
            Wt=np.array(w.teacher),
            W1=np.array(w.student[0]),
            W2=np.array(w.student[1]),
        )

        def authors():
            nb.run(
                'activ="tanh"',
                'teacher_activ="sign"',
                "Omega=k1_2",
                "Phi=k1_1",
                "Psi=k1_t",
                "def replica",
                "repl=replica",
            )
            return np.asarray(nb.ns["repl"]["test_error"])

    def ours():
        drf.layer_moments.cache_clear()
        draw = drf.layer_moments(drf._instance_key(p))[1][1]
        return ridge.ridge_test_error(draw, n, 0.001)[0]

    a, o = side_by_side(authors, ours)
    grid = f"d = {d}, k = {k}, k* = {kt}, L = 2, λ = 1e-3, 20 n/d"
    rows = [
        Row(
            "deep_random_features",
            grid,
            a,
            o,
            a and differences(a.value, o.value),
            timed(drf_reference([np.array(m) for m in w.student], False)),
            "W₁W₁ᵀ, W₂Ω₁W₂ᵀ, eigh(Ω₂)",
            "Δ: the GCM iteration stops at |ΔV| + |Δq| + |Δm| < 1e-9 (the notebook's tolerance)",
        )
    ]
    whole = dataclasses.replace(p, alpha=tuple(alphas))

    def theory():
        drf.layer_moments.cache_clear()
        return drf.theory(whole)

    rows.append(
        Row(
            "deep_random_features",
            "our whole theory() on that grid (n rounded)",
            None,
            timed(theory),
            note="eg, eg_draw, eg_shared, λ* per n, d → ∞ limit",
        )
    )
    return rows


def bench_layers(root: Path | None, quick: bool) -> list[Row]:
    p = drf_params(quick, depth=tuple(range(1, 7)), lam=(0.001,), activation="door")
    d, k, kt = p.d, p.width, p.teacher_width
    w = drf.draw_weights(p)
    alphas = np.linspace(0.1, 8, 150)
    authors = None
    if root is not None:
        nb = Notebook(repo_dir(root, "drf") / "Layerwise_Error_Ridge.ipynb")
        custom = gcm_custom(root)
        nb.run("import sys", "def door", "kt=1200")
        nb.ns.update(
            Custom=custom,
            d=d,
            k=k,
            kt=kt,
            theta=w.theta / math.sqrt(kt),
            Wt=np.array(w.teacher),
            Ws=[np.array(m) for m in w.student],
        )
        nb.run("Sigma=np.ones(d)", "def replica")

        def authors():
            nb.run('activ="door"', 'teacher_activ="sign"', "max_layer=6")
            return np.array([np.asarray(nb.ns["errors"][depth]) for depth in p.depth])

    def ours():
        drf.layer_moments.cache_clear()
        layers = drf.layer_moments(drf._instance_key(p))
        return np.array([ridge.ridge_test_error(m[1], alphas * d, 0.001)[0] for m in layers])

    a, o = side_by_side(authors, ours)
    grid = f"door, L = 1…6, d = {d}, k = {k}, λ = 1e-3, 150 n/d"
    ref = timed(drf_reference([np.array(m) for m in w.student], True))
    return [
        Row(
            "deep_random_features",
            grid,
            a,
            o,
            a and differences(a.value, o.value),
            ref,
            "6 × (W Ω Wᵀ, eigh)",
        )
    ]


# -- rainbow_features (2402.13999) -----------------------------------------------------------------


def rainbow_moments(d: int, p1: int, p2: int) -> ridge.FeatureMoments:
    """Closed-form per-neuron Ω, ψ, E y² of our rainbow net (and teacher) at these sizes."""
    p = rf.Params(d=d, width1=p1, width2=p2)
    weights, teacher = rf.rainbow_weights(p), rf.teacher(p)
    psi0, power = teacher_moments(teacher.weight, teacher.theta, teacher.activation, teacher.noise)
    acts = [p.activation] * 2
    return closed_form_moments(weights, acts, psi0, power, variance="per_neuron")[0]


def rainbow_row(regression, sizes: tuple[int, int, int], lams: list[float] | None, ns) -> Row:
    """One grid: fixed penalties ``lams`` × ``ns``, or (``lams=None``) the optimal λ per n."""
    mom = rainbow_moments(*sizes)
    omega, psi, power = np.array(mom.omega), np.array(mom.psi), mom.label_power

    def authors_solve(frr):
        if lams is None:  # what learningCurve does without lambdas: genErrRMT's λ search
            res = [frr.genErrRMT(n=int(n), l_bounds=(1e-5, 1e5)) for n in ns]
            return np.array([[r["genErrRMT"] for r in res], [r["lamb"] for r in res]])
        return np.array([[frr.genErrRMT(lamb=lam, n=int(n)) for n in ns] for lam in lams])

    def authors(**tolerance):
        return authors_solve(
            regression.FeatureRidgeRegression(
                Omega=omega, sigma=math.sqrt(power), psi=psi, **tolerance
            )
        )

    def ours_solve(m):
        if lams is None:
            lam_opt, eg = ridge.optimal_ridge(m, ns.astype(float))
            return np.array([eg, lam_opt])
        n, lam = ns[None, :].astype(float), np.asarray(lams)[:, None]
        return ridge.ridge_test_error(m, n, lam)[0]

    a, o = side_by_side(
        None if regression is None else authors,
        lambda: ours_solve(ridge.FeatureMoments(omega, psi, power)),
    )
    diff, notes = None, []
    if a is not None and lams is None:
        diff = differences(a.value[0], o.value[0])
        lam_gap = np.max(np.abs(np.log(a.value[1] / o.value[1])))
        above = np.max((a.value[0] - o.value[0]) / o.value[0])
        notes.append(f"λ* within {lam_gap:.1e} in log; authors' error minus ours ≤ {above:.1e}")
    elif a is not None:
        diff = differences(a.value, o.value)
        tight = differences(authors(eps=1e-12), o.value)[1]  # SCov's default eps is 1e-8
        notes.append(f"authors' m iteration to eps = 1e-12 instead of 1e-8: max rel Δ {tight:.1e}")
    if a is not None:  # the same grid once Ω is decomposed (each side's decomposition reused)
        frr = regression.FeatureRidgeRegression(Omega=omega, sigma=math.sqrt(power), psi=psi)
        m = ridge.FeatureMoments(omega, psi, power)
        m.spectrum()

        def authors_warm():
            frr.sc.m_cache.clear()  # their warm starts across calls: start each run empty
            return authors_solve(frr)

        a_warm, o_warm = side_by_side(authors_warm, lambda: ours_solve(m))
        notes.append(
            f"after the eigh: authors {a_warm.cpu:.3f} s, ours {o_warm.cpu:.3f} s "
            f"({a_warm.cpu / o_warm.cpu:.1f}x)"
        )
    what = f"{len(ns)} n at the optimal λ" if lams is None else f"{len(lams)} λ × {len(ns)} n"
    grid = "d = {}, p = ({}, {}), ".format(*sizes) + what
    ref = timed(lambda: np.linalg.eigh(omega), 3)
    return Row("rainbow_features", grid, a, o, diff, ref, "eigh(Ω)", "\n".join(notes))


def bench_rainbow(root: Path | None, quick: bool) -> list[Row]:
    regression = None if root is None else feature_ridge_regression(root)
    art, rf_panel = (
        ((200, 380, 350), (150, 150, 150)) if quick else ((784, 1500, 1400), (500, 500, 500))
    )
    return [
        rainbow_row(
            regression,
            art,
            [0.1, 1.0, 10.0, 100.0],
            np.unique(np.geomspace(50, 10_000, 200, dtype=int)),
        ),
        rainbow_row(regression, art, None, np.geomspace(30, 5000, 50, dtype=int)),
        rainbow_row(regression, rf_panel, [1e-3], np.linspace(50, 1000, 50, dtype=int)),
    ]


# -- Report ----------------------------------------------------------------------------------------


def fmt_s(t: Timed | None) -> str:
    return "—" if t is None else f"{t.cpu:8.3f}"


def report(rows: list[Row]) -> None:
    head = f"{'paper':21} {'grid':52} {'authors s':>9} {'ours s':>8} {'speed-up':>8} "
    head += f"{'(wall)':>7} {'max |Δ|':>8} {'max rel Δ':>9}"
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        speed = wall = diff = rel = ""
        if r.authors is not None:
            speed = f"{r.authors.cpu / r.ours.cpu:7.1f}x"
            wall = f"{r.authors.wall / r.ours.wall:6.1f}x"
        if r.diff is not None:
            diff, rel = f"{r.diff[0]:8.1e}", f"{r.diff[1]:9.1e}"
        print(
            f"{r.paper:21} {r.grid:52} {fmt_s(r.authors):>9} {fmt_s(r.ours):>8} {speed:>8} "
            f"{wall:>7} {diff:>8} {rel:>9}"
        )
        for line in r.note.splitlines():
            print(f"{'':21}   {line}")
    refs = [r for r in rows if r.reference is not None]
    if refs:
        head = f"{'ours vs the unavoidable linear algebra':74} {'ours s':>8} {'ref s':>8}"
        head += f" {'ratio':>7}"
        print("\n" + head + "\n" + "-" * len(head))
        for r in refs:
            label = f"{r.paper}, {r.grid} [{r.reference_what}]"
            print(
                f"{label:74} {r.ours.cpu:8.3f} {r.reference.cpu:8.3f} "
                f"{r.ours.cpu / r.reference.cpu:6.2f}x"
            )


HOW_TO_GET = """The authors' code is not part of theorylab. To compare, clone it into one folder:

    mkdir -p DIR && cd DIR
    git clone https://github.com/HugoCui/Bayes_extensive
    git clone https://github.com/HugoCui/dRF
    git clone https://github.com/IdePHICS/GCMProject
    git clone https://github.com/wirhabenzeit/feature-ridge-regression

and run  python benchmarks/bench_vs_authors.py --authors DIR
(needs numpy, scipy, pandas; regression.py's polars/icecream/tensorflow imports are stubbed if
missing). Timing our side only now.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authors", type=Path, help="folder holding the authors' repositories")
    parser.add_argument("--only", choices=PAPERS, action="append", help="run only these parts")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both sides")
    args = parser.parse_args()
    root = args.authors
    if root is None:
        print(HOW_TO_GET)
    elif not root.is_dir():
        parser.error(f"--authors {root}: no such folder")
    parts = args.only or list(PAPERS)
    with threadpool_limits(limits=args.threads):
        blas = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
        print(f"numpy {np.__version__}; threads: {blas}; load average {os_load()}")
        rows: list[Row] = []
        bench = {
            "bayes": lambda: bench_bayes(root),
            "drf": lambda: bench_drf(root, args.quick),
            "layers": lambda: bench_layers(root, args.quick),
            "rainbow": lambda: bench_rainbow(root, args.quick),
        }
        for part in parts:
            rows += bench[part]()
        report(rows)


def os_load() -> str:
    import os

    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
