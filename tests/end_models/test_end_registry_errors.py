"""Registry and input errors: each names what was expected and what arrived."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from labelmill.errors import DataFormatError, LabelmillError, NotFittedError
from labelmill.end_models import (END_MODELS, SoftLogisticRegression, SoftMLPClassifier, TemperatureScaling,
                                  make_end_model)


def test_registry():
    assert END_MODELS == {"logreg": SoftLogisticRegression, "mlp": SoftMLPClassifier}
    m = make_end_model("logreg", C=3.0, mixup=True)
    assert isinstance(m, SoftLogisticRegression) and m.C == 3.0 and m.mixup
    assert isinstance(make_end_model(), SoftLogisticRegression)
    with pytest.raises(ValueError, match="unknown end model 'svm'; choose one of logreg, mlp"):
        make_end_model("svm")
    with pytest.raises(ValueError, match="no parameter.*hidden"):
        make_end_model("logreg", hidden=(3,))


X = np.random.default_rng(0).random((6, 3))
Y = np.array([[0.2, 0.8]] * 6)


@pytest.mark.parametrize("args, kwargs, match", [
    ((X, np.array([[0.5, 0.6]] * 6)), {}, r"rows summing to 1; 6 rows do not, e.g. row 0 sums to 1.1"),
    ((X, np.array([[-0.2, 1.2]] * 6)), {}, "non-negative"),
    ((X, np.ones((6, 1))), {}, "one class only"),  # (N, 1) is read as a column of labels
    ((X, Y[:5]), {}, "X has 6 rows but y has 5"),
    ((X, [0, 1, 0, 1, 0, -1]), {}, "-1 = abstain at row 5"),
    ((X, [0, 0, 0, 0, 0, 0]), {}, "one class only"),
    ((X, [0.5, 1, 0, 1, 0, 1]), {}, "integer class labels"),
    ((np.where(np.eye(6, 3) > 0, np.nan, X), Y), {}, "NaN or infinite values \\(first at row 0\\)"),
    ((sp.csr_matrix(np.where(np.eye(6, 3, k=-4) > 0, np.inf, X)), Y), {}, "first at row 4"),
    ((X[0], Y), {}, "2-D"),
    ((X, Y), {"sample_weight": np.ones(5)}, r"shape \(6,\)"),
    ((X, Y), {"sample_weight": np.zeros(6)}, "zero on every row"),
    ((X, Y), {"sample_weight": -np.ones(6)}, "non-negative"),
])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_bad_fit_inputs(args, kwargs, match):
    with pytest.raises(DataFormatError, match=match) as info:
        SoftLogisticRegression().fit(*args, **kwargs)
    assert isinstance(info.value, (LabelmillError, ValueError))


def test_wrong_number_of_classes():
    from labelmill.end_models._validation import check_targets

    with pytest.raises(DataFormatError, match="3 columns \\(classes\\) but 2 were expected"):
        check_targets(np.full((4, 3), 1 / 3), 4, n_classes=2)
    s = TemperatureScaling().fit(Y, [0, 1, 1, 1, 1, 1])
    with pytest.raises(DataFormatError, match="fitted on 2 classes, got 3 columns"):
        s.transform(np.full((2, 3), 1 / 3))


def test_predict_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        SoftLogisticRegression().predict(X)
    m = SoftLogisticRegression().fit(X, Y)
    with pytest.raises(DataFormatError, match="X has 2 features, but SoftLogisticRegression is expecting 3"):
        m.predict(X[:, :2])
    with pytest.raises(NotFittedError):
        TemperatureScaling().transform(Y)
    with pytest.raises(DataFormatError, match="class ids in 0..1"):
        TemperatureScaling().fit(Y, [0, 1, 2, 0, 1, 0])
    with pytest.raises(ValueError, match="C must be > 0"):
        SoftLogisticRegression(C=0).fit(X, Y)
