"""The normalization assignment's catalogue of known mistakes: each a small patch to the
reference solution, with the sentence a student reads when an answer matches it (see
``autograder/misconceptions.py``). The demo class has one submission per entry.

A mistake of a forward pass changes the forward pass only, so that what the
reference backward pass gives after it is what a right backward pass gives from that
forward pass's cache; a student who made the mistake in both passes has the right
gradient of their own forward pass instead, which the checks credit as well
(``judging.py``). One entry changes both: the reference backward pass cannot even
run on the cache of a forward pass with interleaved groups.
"""
from autograder.misconceptions import Mistake

CATALOGUE = (
    # layernorm.py
    Mistake("ln-batch-axis", "layernorm_forward",
            (("mu = x.mean(axis=1, keepdims=True)", "mu = x.mean(axis=0, keepdims=True)"),
             ("var = (xmu ** 2).mean(axis=1, keepdims=True)", "var = (xmu ** 2).mean(axis=0, keepdims=True)")),
            "you normalize every feature over the batch (axis 0), which is batch normalization; layer "
            "normalization normalizes every example over its own features: mean and variance over axis 1, "
            "with keepdims=True so that they broadcast against x."),
    Mistake("ln-eps-outside-sqrt", "layernorm_forward",
            (("ivar = 1.0 / np.sqrt(var + eps)", "ivar = 1.0 / (np.sqrt(var) + eps)"),),
            "eps is added after the square root; it belongs inside it: sqrt(var + eps)."),
    Mistake("ln-backward-missing-mean-path", "layernorm_backward",
            ((" - dxhat.mean(axis=1, keepdims=True)", ""),),
            "dx misses the gradient that flows through the mean: every x[i, j] changes the mean of example i. "
            "Subtract the mean of dxhat over the features of each example."),
    Mistake("ln-backward-batch-axis", "layernorm_backward",
            (("dx = ivar * (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, "
              "keepdims=True))",
              "dx = ivar * (dxhat - dxhat.mean(axis=0, keepdims=True) - xhat * (dxhat * xhat).mean(axis=0, "
              "keepdims=True))"),),
            "dx takes its sums over the batch (axis 0), as batch normalization's backward pass does; in layer "
            "normalization the mean and variance are taken over the features of each example, so the sums of dx "
            "run over axis 1 (dgamma and dbeta still sum over axis 0)."),
    Mistake("ln-backward-forgets-gamma", "layernorm_backward",
            (("    dxhat = dout * gamma\n", "    dxhat = dout\n"),),
            "dx leaves out gamma: out = gamma * xhat + beta, so the gradient reaching xhat is dout * gamma "
            "(when you reuse a batch-norm backward pass on transposed arrays, multiply dout by gamma first)."),
    # spatial_batchnorm.py
    Mistake("sbn-per-position-statistics", "spatial_batchnorm_forward",
            (("mu = rows.mean(axis=(0, 1))\n", "mu = rows.mean(axis=0)\n"),
             ("var = rows.var(axis=(0, 1))\n", "var = rows.var(axis=0)\n")),
            "you normalize every channel at every position separately, over the batch only (statistics of shape "
            "(C, H, W)); a channel computes the same feature everywhere, so spatial batch normalization pools "
            "every example and every position: one mean and one variance per channel, over axes 0, 2 and 3."),
    Mistake("sbn-reshape-without-transpose", "spatial_batchnorm_forward",
            (("    rows = x.transpose(0, 2, 3, 1).reshape(N, H * W, C)\n", "    rows = x.reshape(N, H * W, C)\n"),
             ("out = (gamma * xhat + beta).reshape(N, H, W, C).transpose(0, 3, 1, 2)",
              "out = (gamma * xhat + beta).reshape(N, C, H, W)")),
            "you reshape x of shape (N, C, H, W) to (-1, C) without moving the channels last first, so every "
            "column mixes values of different channels and positions; transpose to (N, H, W, C) before the "
            "reshape, and back after it."),
    Mistake("sbn-test-uses-batch-statistics", "spatial_batchnorm_forward",
            (("        mu, var = running_mean, running_var\n",
              "        mu, var = rows.mean(axis=(0, 1)), rows.var(axis=(0, 1))\n"),),
            "in test mode you normalize with the statistics of the test batch; use running_mean and running_var, "
            "so that an example's output does not depend on its batch."),
    Mistake("sbn-eps-outside-sqrt", "spatial_batchnorm_forward",
            (("ivar = 1.0 / np.sqrt(var + eps)", "ivar = 1.0 / (np.sqrt(var) + eps)"),),
            "eps is added after the square root; it belongs inside it: sqrt(var + eps)."),
    Mistake("sbn-momentum-swapped", "spatial_batchnorm_forward",
            (("= momentum * running_mean + (1 - momentum) * mu\n", "= (1 - momentum) * running_mean + momentum * mu\n"),
             ("= momentum * running_var + (1 - momentum) * var\n",
              "= (1 - momentum) * running_var + momentum * var\n")),
            "momentum weighs the old running average, not the new batch statistic: "
            "running = momentum * running + (1 - momentum) * batch_statistic."),
    Mistake("sbn-keepdims-running-averages", "spatial_batchnorm_forward",
            (("mu = rows.mean(axis=(0, 1))\n", "mu = rows.mean(axis=(0, 1), keepdims=True)\n"),
             ("var = rows.var(axis=(0, 1))\n", "var = rows.var(axis=(0, 1), keepdims=True)\n")),
            "you keep the batch statistics with keepdims=True, so running_mean and running_var keep the summed "
            "axes; the contract stores them with shape (C,)."),
    Mistake("sbn-backward-missing-mean-path", "spatial_batchnorm_backward",
            ((" - dxhat.mean(axis=(0, 1))", ""),),
            "dx misses the gradient that flows through the mean: every value of a channel changes that channel's "
            "mean. Subtract the mean of dxhat over the examples and positions of each channel."),
    Mistake("sbn-backward-reshape-without-transpose", "spatial_batchnorm_backward",
            (("    drows = dout.transpose(0, 2, 3, 1).reshape(N, H * W, C)\n",
              "    drows = dout.reshape(N, H * W, C)\n"),
             ("    dx = drows_x.reshape(N, H, W, C).transpose(0, 3, 1, 2)\n",
              "    dx = drows_x.reshape(N, C, H, W)\n")),
            "the backward pass reshapes dout of shape (N, C, H, W) to (-1, C) without moving the channels last "
            "first (and dx back without the inverse transpose), so the gradients of different channels mix; "
            "transpose exactly as in the forward pass."),
    Mistake("sbn-backward-parameters-keepdims", "spatial_batchnorm_backward",
            (("dbeta = drows.sum(axis=(0, 1))", "dbeta = drows.sum(axis=(0, 1), keepdims=True)"),
             ("dgamma = (drows * xhat).sum(axis=(0, 1))", "dgamma = (drows * xhat).sum(axis=(0, 1), keepdims=True)")),
            "dgamma and dbeta keep the summed axes (keepdims=True); gamma and beta have shape (C,), and so must "
            "their gradients."),
    # groupnorm.py
    Mistake("gn-interleaved-groups", "spatial_groupnorm_forward",
            (("groups = x.reshape(N, G, C // G, H, W)", "groups = x.reshape(N, C // G, G, H, W)"),
             ("mu = groups.mean(axis=(2, 3, 4), keepdims=True)", "mu = groups.mean(axis=(1, 3, 4), keepdims=True)"),
             ("var = groups.var(axis=(2, 3, 4), keepdims=True)", "var = groups.var(axis=(1, 3, 4), keepdims=True)"),
             ("dxhat = (dout * gamma).reshape(N, G, C // G, H, W)",
              "dxhat = (dout * gamma).reshape(N, C // G, G, H, W)"),
             ("xhat = xhat.reshape(N, G, C // G, H, W)", "xhat = xhat.reshape(N, C // G, G, H, W)"),
             ("dx = ivar * (dxhat - dxhat.mean(axis=(2, 3, 4), keepdims=True)\n"
              "                 - xhat * (dxhat * xhat).mean(axis=(2, 3, 4), keepdims=True))",
              "dx = ivar * (dxhat - dxhat.mean(axis=(1, 3, 4), keepdims=True)\n"
              "                 - xhat * (dxhat * xhat).mean(axis=(1, 3, 4), keepdims=True))")),
            "your groups take every G-th channel (x.reshape(N, C // G, G, H, W)); a group is C // G consecutive "
            "channels: reshape x to (N, G, C // G, H, W) and pool axes 2, 3 and 4."),
    Mistake("gn-statistics-over-batch", "spatial_groupnorm_forward",
            (("mu = groups.mean(axis=(2, 3, 4), keepdims=True)", "mu = groups.mean(axis=(0, 2, 3, 4), keepdims=True)"),
             ("var = groups.var(axis=(2, 3, 4), keepdims=True)", "var = groups.var(axis=(0, 2, 3, 4), keepdims=True)")),
            "your group statistics pool the whole batch as well; group normalization normalizes each group of each "
            "example on its own, so that an example's output never depends on the rest of its batch."),
    Mistake("gn-per-position-statistics", "spatial_groupnorm_forward",
            (("mu = groups.mean(axis=(2, 3, 4), keepdims=True)", "mu = groups.mean(axis=2, keepdims=True)"),
             ("var = groups.var(axis=(2, 3, 4), keepdims=True)", "var = groups.var(axis=2, keepdims=True)")),
            "your group statistics pool the group's channels at one position only (layer normalization of every "
            "row of an (N * H * W, C // G) view); a group's mean and variance pool its C // G channels at every "
            "position of the example: axes 2, 3 and 4 of (N, G, C // G, H, W)."),
    Mistake("gn-gamma-indexed-as-C", "spatial_groupnorm_forward",
            (("    out = gamma * xhat + beta\n",
              "    out = gamma[np.newaxis, :, np.newaxis, np.newaxis] * xhat + beta[np.newaxis, :, np.newaxis, "
              "np.newaxis]\n"),),
            "you index gamma and beta as if they had shape (C,) (gamma[np.newaxis, :, np.newaxis, np.newaxis]); "
            "here they have shape (1, C, 1, 1) already, and the indexing adds axes to out: use gamma * xhat + beta "
            "as they are."),
    Mistake("gn-eps-outside-sqrt", "spatial_groupnorm_forward",
            (("ivar = 1.0 / np.sqrt(var + eps)", "ivar = 1.0 / (np.sqrt(var) + eps)"),),
            "eps is added after the square root; it belongs inside it: sqrt(var + eps)."),
    Mistake("gn-backward-forgets-gamma", "spatial_groupnorm_backward",
            (("dxhat = (dout * gamma).reshape(N, G, C // G, H, W)", "dxhat = dout.reshape(N, G, C // G, H, W)"),),
            "dx leaves out gamma: out = gamma * xhat + beta, so the gradient reaching xhat is dout * gamma "
            "(when you reuse a layer-norm backward pass on reshaped arrays, multiply dout by gamma first)."),
    Mistake("gn-backward-parameters-as-C", "spatial_groupnorm_backward",
            (("dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)", "dbeta = dout.sum(axis=(0, 2, 3))"),
             ("dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)",
              "dgamma = (dout * xhat).sum(axis=(0, 2, 3))")),
            "dgamma and dbeta have shape (C,); here gamma and beta have shape (1, C, 1, 1), and so must their "
            "gradients: sum with keepdims=True."),
    Mistake("gn-backward-missing-mean-path", "spatial_groupnorm_backward",
            ((" - dxhat.mean(axis=(2, 3, 4), keepdims=True)", ""),),
            "dx misses the gradient that flows through the mean: every value of a group changes that group's mean. "
            "Subtract the mean of dxhat over the channels and positions of each group."),

)
