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
========================  =====================================================  =======

Everything public is importable from ``nnlib`` directly, e.g. ``from nnlib import MLP, fit``.
The book's own kit (data sets, plots, slider panels) is the sibling package ``nnbook``; nnlib
never imports it.
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

__version__ = "1.0.0"
