"""The optimiser a family builds from its config: fused where the class has a fused kernel and the config chose no
implementation; the user's choice kept otherwise; any other optimiser class built as configured."""

from __future__ import annotations

import functools

import pytest
import torch

from visiontrain.models.optim import build_optimizers


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 6 * 6, 2))


def _groups(net: torch.nn.Module) -> list[dict]:
    return [{"params": list(net[0].parameters()), "lr_scale": 0.1}, {"params": list(net[2].parameters())}]


@pytest.mark.parametrize("cls", [torch.optim.AdamW, torch.optim.Adam, torch.optim.SGD])
def test_an_optimiser_with_a_fused_kernel_runs_it_when_the_config_chose_none(cls):
    opt = build_optimizers(_groups(_net()), functools.partial(cls, lr=0.01), None)
    assert opt.defaults["fused"] is True
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.001, 0.01])


@pytest.mark.parametrize("choice", [{"fused": False}, {"foreach": True}])
def test_the_configs_own_implementation_choice_is_kept(choice):
    opt = build_optimizers(_groups(_net()), functools.partial(torch.optim.AdamW, lr=0.01, **choice), None)
    assert not opt.defaults["fused"]
    assert opt.defaults["foreach"] == choice.get("foreach")


def test_an_optimiser_without_a_fused_kernel_is_built_as_configured():
    opt = build_optimizers(_groups(_net()), functools.partial(torch.optim.RMSprop, lr=0.01), None)
    assert isinstance(opt, torch.optim.RMSprop) and "fused" not in opt.defaults


def test_the_fused_update_is_the_one_of_the_loop_implementation():
    nets = [_net(), _net()]
    opts = [build_optimizers(_groups(n), functools.partial(torch.optim.AdamW, lr=0.01, **kw), None)
            for n, kw in zip(nets, [{}, {"fused": False}])]
    assert opts[0].defaults["fused"] and not opts[1].defaults["fused"]
    x = torch.randn(4, 3, 8, 8)
    for _ in range(3):
        for net, opt in zip(nets, opts):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b)
