"""The batchnorm assignment's catalogue of known mistakes: each a small patch to the
reference solution, with the sentence a student reads when an answer matches it
(see ``autograder/misconceptions.py``). The demo class has one submission per entry."""
from autograder.misconceptions import Mistake

CATALOGUE = (
    Mistake("bn-unbiased-variance", "batchnorm_forward",
            (("var = (xmu ** 2).mean(axis=0)", "var = x.var(axis=0, ddof=1)"),),
            "your batch variance is the unbiased one (ddof=1, dividing by N - 1); batch normalization "
            "uses the biased variance (dividing by N) in training, and so does running_var."),
    Mistake("bn-eps-outside-sqrt", "batchnorm_forward",
            (("sqrtvar = np.sqrt(var + eps)", "sqrtvar = np.sqrt(var) + eps"),
             ("np.sqrt(running_var + eps)", "(np.sqrt(running_var) + eps)")),
            "eps is added after the square root; it belongs inside it: sqrt(var + eps)."),
    Mistake("bn-momentum-swapped", "batchnorm_forward",
            (("= momentum * running_mean + (1 - momentum) * mu\n",
              "= (1 - momentum) * running_mean + momentum * mu\n"),
             ("= momentum * running_var + (1 - momentum) * var\n",
              "= (1 - momentum) * running_var + momentum * var\n")),
            "momentum weighs the old running average, not the new batch statistic: "
            "running = momentum * running + (1 - momentum) * batch_statistic."),
    Mistake("bn-test-uses-batch-statistics", "batchnorm_forward",
            (("xhat = (x - running_mean) / np.sqrt(running_var + eps)",
              "xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)"),),
            "in test mode you normalize with the statistics of the test batch; use running_mean and "
            "running_var, so that an example's output does not depend on its batch."),
    Mistake("bn-running-mean-not-updated", "batchnorm_forward",
            (("        running_mean = momentum * running_mean + (1 - momentum) * mu\n", ""),),
            "running_mean is never updated in train mode: update it as momentum * running_mean + (1 - momentum) "
            "* mu, as you do for running_var."),
    Mistake("bn-running-var-not-updated", "batchnorm_forward",
            (("        running_var = momentum * running_var + (1 - momentum) * var\n", ""),),
            "running_var is never updated in train mode: update it as momentum * running_var + (1 - momentum) "
            "* var, as you do for running_mean."),
    Mistake("bn-running-var-of-std", "batchnorm_forward",
            (("= momentum * running_var + (1 - momentum) * var\n",
              "= momentum * running_var + (1 - momentum) * sqrtvar\n"),),
            "running_var averages the standard deviation; it should average the variance var."),
    Mistake("bn-keepdims-running-averages", "batchnorm_forward",
            (("mu = x.mean(axis=0)", "mu = x.mean(axis=0, keepdims=True)"),
             ("var = (xmu ** 2).mean(axis=0)", "var = (xmu ** 2).mean(axis=0, keepdims=True)")),
            "you keep the batch statistics with keepdims=True, so running_mean and running_var end up with "
            "shape (1, D); the contract stores them with shape (D,): average over axis 0 without keepdims."),
    Mistake("bn-default-eps", "batchnorm_forward",
            (('eps = bn_param.get("eps", 1e-5)', 'eps = bn_param.get("eps", 1e-8)'),),
            "when bn_param has no 'eps', your forward uses another value than the contract's default, 1e-5."),
    Mistake("bn-default-momentum", "batchnorm_forward",
            (('momentum = bn_param.get("momentum", 0.9)', 'momentum = bn_param.get("momentum", 0.99)'),),
            "when bn_param has no 'momentum', your forward uses another value than the contract's default, 0.9."),
    Mistake("bn-test-forgets-gamma-beta", "batchnorm_forward",
            (("out = gamma * xhat + beta\n        cache = None", "out = xhat\n        cache = None"),),
            "in test mode you return the normalized xhat; scale and shift it as in training: "
            "out = gamma * xhat + beta."),
    Mistake("bn-running-averages-not-stored", "batchnorm_forward",
            (('    bn_param["running_mean"] = running_mean\n    bn_param["running_var"] = running_var\n', ""),),
            "the running averages are not stored back into bn_param; without them test mode cannot use "
            "what training learned: set bn_param['running_mean'] and bn_param['running_var'] in both modes."),
    Mistake("bn-backward-missing-mean-path", "batchnorm_backward",
            (("dx = dx1 + dmu / N", "dx = dx1"),),
            "dx misses the gradient that flows through the batch mean mu (every x_i changes mu); "
            "add dmu / N to every row."),
    Mistake("bn-backward-square-factor", "batchnorm_backward",
            (("dxmu2 = 2 * xmu * dsq", "dxmu2 = xmu * dsq"),),
            "the derivative of xmu ** 2 is 2 * xmu; the factor 2 is missing on the variance path."),
    Mistake("bn-backward-keepdims-parameters", "batchnorm_backward",
            (("N = dout.shape[0]\n    dbeta = dout.sum(axis=0)\n    dgamma = (dout * xhat).sum(axis=0)\n    dxhat",
              "N = dout.shape[0]\n    dbeta = dout.sum(axis=0, keepdims=True)\n"
              "    dgamma = (dout * xhat).sum(axis=0, keepdims=True)\n    dxhat"),),
            "dgamma and dbeta are summed with keepdims=True and have shape (1, D); gamma and beta have shape "
            "(D,), and so must their gradients: sum over axis 0 without keepdims."),
    Mistake("bn-alt-keepdims-parameters", "batchnorm_backward_alt",
            (("    dbeta = dout.sum(axis=0)\n    dgamma = (dout * xhat).sum(axis=0)\n    dx = (gamma",
              "    dbeta = dout.sum(axis=0, keepdims=True)\n    dgamma = (dout * xhat).sum(axis=0, keepdims=True)\n"
              "    dx = (gamma"),),
            "dgamma and dbeta are summed with keepdims=True and have shape (1, D); gamma and beta have shape "
            "(D,), and so must their gradients: sum over axis 0 without keepdims."),
    Mistake("bn-alt-dx-none", "batchnorm_backward_alt",
            (("dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)", "dx = None"),),
            "batchnorm_backward_alt returns None for dx: compute it with the closed form "
            "dx = (1/N) * gamma * ivar * (N*dout - sum(dout) - xhat*sum(dout*xhat))."),
    Mistake("bn-alt-missing-xhat-term", "batchnorm_backward_alt",
            (("dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)",
              "dx = (gamma * ivar / N) * (N * dout - dbeta)"),),
            "the closed form misses the term xhat * sum(dout * xhat): the variance depends on x too."),
    Mistake("pre-global-mean", "zero_centered",
            (("return X - X.mean(axis=0)", "return X - X.mean()"),),
            "you subtract one mean of the whole array; centre every feature separately with the mean "
            "over the examples (axis=0)."),
    Mistake("pre-std-zero-not-guarded", "normalized",
            (("return X / np.where(std == 0, 1.0, std)", "return X / std"),),
            "a feature whose standard deviation is 0 (a constant feature) is divided by 0, which gives NaN; "
            "divide it by 1 instead: X / np.where(std == 0, 1.0, std)."),
    Mistake("pre-sample-std", "normalized",
            (("std = X.std(axis=0)", "std = X.std(axis=0, ddof=1)"),),
            "you divide by the sample standard deviation (ddof=1); use the population one (ddof=0)."),
    Mistake("init-xavier-fan-out", "xavier_init",
            (("return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)\n",
              "return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_out)\n"),),
            "Xavier scales by the number of inputs: divide by sqrt(fan_in), not sqrt(fan_out)."),
    Mistake("init-he-double-fan-in", "he_init",
            (("/ np.sqrt(fan_in / 2)", "/ np.sqrt(2 * fan_in)"),),
            "He initialization has variance 2 / fan_in: divide by sqrt(fan_in / 2), not sqrt(2 * fan_in)."),
    Mistake("init-he-fan-out", "he_init",
            (("/ np.sqrt(fan_in / 2)", "/ np.sqrt(fan_out / 2)"),),
            "He scales by the number of inputs: divide by sqrt(fan_in / 2), not sqrt(fan_out / 2)."),
)
