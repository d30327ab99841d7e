"""The training methods the literature says work: rft (SFT on correct traces), DPO with an NLL term (RPO)."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")
pytestmark = pytest.mark.train

from strawberry_dspy.errors import UserError  # noqa: E402
from strawberry_dspy.train.recipe import recipe_from_dict  # noqa: E402
from strawberry_dspy.train.trainer import trl_config  # noqa: E402


def test_rpo_alpha_adds_the_nll_term_to_the_dpo_loss(tmp_path):
    plain = trl_config(recipe_from_dict({"method": "dpo"}), tmp_path)
    rpo = trl_config(recipe_from_dict({"method": "dpo", "rpo_alpha": 0.5}), tmp_path)
    assert plain.loss_type == ["sigmoid"] and not plain.loss_weights
    assert rpo.loss_type == ["sigmoid", "sft"] and rpo.loss_weights == [1.0, 0.5]
    ipo = trl_config(recipe_from_dict({"method": "dpo", "rpo_alpha": 1.0, "trl": {"loss_type": ["ipo"]}}), tmp_path)
    assert ipo.loss_type == ["ipo", "sft"] and ipo.loss_weights == [1.0, 1.0]


def test_rft_trains_with_sft_on_an_sft_export(tmp_path):
    import trl

    recipe = recipe_from_dict({"method": "rft"})
    assert recipe.trainer == "sft" and isinstance(trl_config(recipe, tmp_path), trl.SFTConfig)


@pytest.mark.parametrize("data, message", [
    ({"method": "rft", "rpo_alpha": 1.0}, "rpo_alpha adds an NLL term to DPO, but the method is rft"),
    ({"method": "dpo", "rpo_alpha": -1}, "rpo_alpha must be a finite number >= 0"),
    ({"method": "dpo", "rpo_alpha": float("nan")}, "'rpo_alpha' must be a finite number"),  # the recipe loader's rule
])
def test_bad_rpo_alpha_is_one_line(data, message):
    with pytest.raises(UserError, match=message):
        recipe_from_dict(data)
