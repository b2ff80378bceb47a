"""nnlib: the small numpy neural-network library of the course-book.

One module per concept, in the order the book introduces them:

========================  =====================================================  =======
module                    what                                                   chapter
========================  =====================================================  =======
``nnlib.neuron``          weighted sum, step, the perceptron and its rule        1-3
``nnlib.activations``     step, sigmoid, tanh, ReLU, leaky ReLU, ELU + grads     5
``nnlib.losses``          MSE, cross-entropies, stable softmax / log-softmax     6
``nnlib.graph``           a scalar computational graph with backward             7
``nnlib.layers``          ``Dense`` and the layer interface                      4, 7
``nnlib.network``         ``Sequential``, ``MLP``, parameter counts              4
``nnlib.optim``           SGD and gradient-descent paths                         8
``nnlib.train``           ``fit``: mini-batches, history, divergence detection    8-9
``nnlib.gradcheck``       finite-difference gradient checks                      7
``nnlib.datasets``        logic gates, handout examples, toy 2-D sets, digits    all
``nnlib.plotting``        decision boundaries, curves, image grids               all
``nnlib.widgets``         slider panels (live in Jupyter, precomputed on the web) all
========================  =====================================================  =======

Everything public is importable from ``nnlib`` directly, e.g. ``from nnlib import MLP, fit``.
"""

from .activations import (ACTIVATIONS, ELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Step,
                          Tanh, elu, elu_grad, get_activation, identity, identity_grad, leaky_relu,
                          leaky_relu_grad, relu, relu_grad, sigmoid, sigmoid_grad, step, step_grad,
                          tanh, tanh_grad)
from .gradcheck import (GradCheck, check_function, check_layer, check_model, numerical_gradient,
                        relative_error)
from .graph import Value, handout_example, maximum, topological_order
from .layers import Dense, Layer
from .losses import (MSELoss, SoftmaxCrossEntropy, binary_cross_entropy, binary_cross_entropy_grad,
                     cross_entropy, cross_entropy_grad, log_softmax, logsumexp, mse, mse_grad,
                     softmax)
from .network import MLP, Sequential, count_params
from .neuron import Perceptron, delta_rule, perceptron_output, weighted_sum
from .optim import SGD, Descent, gradient_descent
from .train import DivergenceError, DivergenceWarning, History, evaluate, fit
from .datasets import (DigitsData, load_digits, load_mnist, logic_gate, make_2d, read_idx,
                       snack_example, sports_events, train_val_test_split)
from . import datasets

# The plotting and widget modules pull in matplotlib and ipywidgets (about a second); they are
# imported on first use, so `import nnlib` stays quick in scripts, tests and graders.
_LAZY = {"plotting": None, "widgets": None, "Panel": "widgets", "Slider": "widgets",
         "Choice": "widgets"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
        return module if _LAZY[name] is None else getattr(module, name)
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))

__version__ = "1.0.0"
