"""nnlib: the small numpy neural-network library of the course-book.

One module per concept, in the order the book builds them: ``neuron`` (weighted sum, perceptron,
chapters 1-3), ``activations`` (5), ``losses`` (softmax, MSE, cross-entropies, 6), ``graph`` (a
scalar computational graph, 7), ``layers`` (``Dense`` and the activation layers, 4 and 7),
``network`` (``Sequential``, ``MLP``, 4), ``gradcheck`` (finite differences, 7), ``optim`` (SGD,
8) and ``train`` (``fit``, 8-9). Each imports only modules below it in that order of ideas:
data, model, loss, gradients, optimiser, training.

Everything public is importable from ``nnlib`` directly (``from nnlib import MLP, fit``); the
book's own kit (data sets, plots, slider panels) is the sibling package ``nnbook``, which nnlib
never imports.
"""

from .activations import (ACTIVATIONS, elu, elu_grad, identity, identity_grad, leaky_relu,
                          leaky_relu_grad, relu, relu_grad, sigmoid, sigmoid_grad, step, step_grad,
                          tanh, tanh_grad)
from .gradcheck import (GradCheck, check_function, check_layer, check_model, numerical_gradient,
                        relative_error)
from .graph import Value, product_plus_max, maximum, topological_order
from .layers import ELU, Activation, Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from .losses import (BinaryCrossEntropy, MSELoss, SoftmaxCrossEntropy, binary_cross_entropy,
                     binary_cross_entropy_grad, cross_entropy, cross_entropy_grad, get_loss,
                     log_softmax, logsumexp, mse, mse_grad, softmax)
from .network import MLP, Sequential, count_params
from .neuron import Perceptron, delta_rule, perceptron_output, weighted_sum
from .optim import SGD, Descent, gradient_descent
from .train import DivergenceError, DivergenceWarning, History, TrainingWarning, evaluate, fit

__version__ = "1.0.0"
