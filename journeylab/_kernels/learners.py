"""The models of :func:`~journeylab.predict`: scikit-learn estimators on the prefix features, calibration on
held-out time, the baselines, the metrics and the per-group explanations.

Nothing here reads a log: it takes the feature frames of :mod:`journeylab._kernels.prefixes` (columns
``<group>:<name>``; numbers as float, everything else categorical) and their labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "QUANTILES",
    "baseline",
    "class_metrics",
    "fit_classifier",
    "fit_quantiles",
    "group_effects",
    "group_importance",
    "regression_metrics",
    "typical_values",
]

#: The quantiles of the remaining-time models (the interval is the outer two, the point the median).
QUANTILES = (0.1, 0.5, 0.9)


def _categorical(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]


def _gbm(kind: str, random_state, **kw):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if kind == "classifier" else HistGradientBoostingRegressor
    # fixed iterations, no early stopping: early stopping would hold out random rows, and the split is by time
    return cls(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
               categorical_features="from_dtype", early_stopping=False, random_state=random_state, **kw)


def _logistic(X: pd.DataFrame, random_state):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cats = _categorical(X)
    nums = [c for c in X.columns if c not in cats]
    prep = ColumnTransformer([
        ("categories", make_pipeline(SimpleImputer(strategy="constant", fill_value="(none)"),
                                     OneHotEncoder(handle_unknown="ignore", min_frequency=5)), cats),
        ("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                  StandardScaler()), nums),
    ])
    return make_pipeline(_ToObject(cats), prep, LogisticRegression(max_iter=2000, C=0.5,
                                                                   random_state=random_state))


class _ToObject:
    """Categorical columns as object arrays with missing values as None (what SimpleImputer accepts), and
    float32 columns (the counts and flags of the examples) as float64: the scaler's sums then run in the
    precision they always did."""

    def __init__(self, cats):
        self.cats = list(cats)

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = X.copy()
        for c in self.cats:
            X[c] = X[c].astype(object).where(X[c].notna(), "(none)")
        for c in X.columns:
            if X[c].dtype == np.float32:
                X[c] = X[c].astype(np.float64)
        return X

    def get_params(self, deep=True):
        return {"cats": self.cats}

    def set_params(self, **kw):
        self.cats = kw.get("cats", self.cats)
        return self


def fit_classifier(model: str, X_train, y_train, X_cal, y_cal, random_state):
    """The classifier fitted on the training cut-offs and calibrated (isotonic from 1,000 calibration
    examples, sigmoid below) on the later calibration cut-offs; returns ``(estimator, method)``; method is
    None when the calibration examples hold a single class (then the estimator is not calibrated)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    est = _gbm("classifier", random_state) if model == "gbm" else _logistic(X_train, random_state)
    est.fit(X_train, y_train)
    classes = set(np.unique(y_cal))
    if len(classes) < 2 or not classes <= set(est.classes_):
        return est, None
    method = "isotonic" if len(y_cal) >= 1000 else "sigmoid"
    cal = CalibratedClassifierCV(FrozenEstimator(est), method=method)
    cal.fit(X_cal, y_cal)
    return cal, method


def fit_quantiles(X_train, y_train, random_state) -> dict:
    """One gradient-boosting model per quantile of :data:`QUANTILES` (pinball loss)."""
    out = {}
    for q in QUANTILES:
        m = _gbm("regressor", random_state, loss="quantile", quantile=q)
        out[q] = m.fit(X_train, y_train)
    return out


def baseline(milestone_train: pd.Series, y_train, milestone: pd.Series, *, kind: str, classes=None) -> np.ndarray:
    """The baseline at the customer's current milestone, learned on the training examples: the historical
    rate (``kind="rate"``), the class shares (``"shares"``, columns in ``classes`` order) or the median
    (``"median"``); a milestone never seen in training gets the overall figure."""
    key_tr = milestone_train.astype(object).fillna("(none)").to_numpy()
    key = milestone.astype(object).fillna("(none)").to_numpy()
    if kind == "shares":
        onehot = pd.DataFrame((np.asarray(y_train)[:, None] == np.asarray(classes)[None, :]).astype(float),
                              columns=list(classes))
        table = onehot.groupby(key_tr).mean()
        overall = onehot.mean()
        return table.reindex(key).fillna(overall).to_numpy()
    y = pd.Series(np.asarray(y_train, dtype=float))
    stat = y.groupby(key_tr).mean() if kind == "rate" else y.groupby(key_tr).median()
    overall = y.mean() if kind == "rate" else y.median()
    return stat.reindex(key).fillna(overall).to_numpy(dtype=float)


def class_metrics(y, proba: np.ndarray, classes) -> dict:
    """AUC (one-vs-rest macro for several classes) and Brier score (the mean squared distance between the
    probabilities and the outcome, summed over classes when there are more than two)."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    y = np.asarray(y)
    if len(classes) == 2:
        p = proba[:, 1] if proba.ndim == 2 else proba
        auc = roc_auc_score(y, p) if len(np.unique(y)) == 2 else np.nan
        return {"auc": float(auc), "brier": float(brier_score_loss(y, p, pos_label=classes[1]))}
    present = [i for i, c in enumerate(classes) if (y == c).any() and (y != c).any()]
    aucs = [roc_auc_score((y == classes[i]).astype(int), proba[:, i]) for i in present]
    onehot = (y[:, None] == np.asarray(classes)[None, :]).astype(float)
    return {"auc": float(np.mean(aucs)) if aucs else np.nan,
            "brier": float(((proba - onehot) ** 2).sum(axis=1).mean())}


def regression_metrics(y, point, low=None, high=None) -> dict:
    """Mean absolute error of the point prediction and the share of outcomes inside ``[low, high]``."""
    y = np.asarray(y, dtype=float)
    out = {"mae_h": float(np.mean(np.abs(y - point)))}
    if low is not None:
        out["coverage"] = float(np.mean((y >= low) & (y <= high)))
    return out


def typical_values(X: pd.DataFrame) -> dict:
    """Per column, the training median (numbers) or the most frequent value (categories)."""
    out = {}
    for c in X.columns:
        s = X[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            counts = s.value_counts()
            out[c] = counts.index[0] if len(counts) and counts.iloc[0] > 0 else np.nan
        else:
            med = s.median()
            out[c] = med if pd.notna(med) else np.nan
    return out


def groups_of(columns) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in columns:
        out.setdefault(c.split(":", 1)[0], []).append(c)
    return out


def group_importance(score, X: pd.DataFrame, y, rng: np.random.Generator, repeats: int = 3) -> pd.DataFrame:
    """Permutation importance per feature group: how much ``score(X, y)`` (higher is better) drops when the
    rows of a group's columns are shuffled together (the same permutation for the group, ``repeats``
    times); ``importance`` is the mean drop, ``std`` its spread."""
    base = score(X, y)
    rows = []
    for group, cols in groups_of(X.columns).items():
        drops = []
        for _ in range(repeats):
            perm = rng.permutation(len(X))
            Xp = X.copy()
            for c in cols:
                Xp[c] = X[c].iloc[perm].to_numpy() if not isinstance(X[c].dtype, pd.CategoricalDtype) else \
                    pd.Categorical(X[c].iloc[perm], categories=X[c].cat.categories)
            drops.append(base - score(Xp, y))
        rows.append({"group": group, "importance": float(np.mean(drops)), "std": float(np.std(drops)),
                     "features": len(cols)})
    out = pd.DataFrame(rows).sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    return out


def group_effects(predict, X: pd.DataFrame, typical: dict) -> pd.DataFrame:
    """Per customer and group: ``predict(X) - predict(X with the group's columns set to their typical
    training values)`` - how much the customer's own values of that group move the score."""
    now = predict(X)
    out = {}
    for group, cols in groups_of(X.columns).items():
        Xr = X.copy()
        for c in cols:
            v = typical.get(c, np.nan)
            if isinstance(X[c].dtype, pd.CategoricalDtype):
                Xr[c] = pd.Categorical([v] * len(X), categories=X[c].cat.categories)
            else:
                Xr[c] = float(v) if pd.notna(v) else np.nan
        out[group] = now - predict(Xr)
    return pd.DataFrame(out, index=X.index)
