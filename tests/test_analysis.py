"""Prompt/patch diagnostics: the NMI estimator on cases with known answers, token extraction, vpt analyze."""

from __future__ import annotations

import json
import math

import pytest
import torch

from vpt_engine.analysis import (binned_mutual_information, block_inputs, layer_statistics,
                                 normalized_mutual_information, prompt_patch_statistics, quantile_bins)
from vpt_engine.prompted_vit import PromptedViT
from vpt_engine.prompts import PromptConfig


def gaussian_pair(rho: float, rows: int, width: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, width, generator=generator)
    noise = torch.randn(rows, width, generator=generator)
    return x, rho * x + math.sqrt(1 - rho ** 2) * noise


# -- the estimator ----------------------------------------------------------------------
def test_quantile_bins_are_equally_populated():
    x = torch.randn(3, 64, generator=torch.Generator().manual_seed(0))
    bins = quantile_bins(x, 8)
    assert all(torch.bincount(row, minlength=8).tolist() == [8] * 8 for row in bins)


def test_identical_and_affinely_related_tokens_have_nmi_one():
    a = torch.randn(50, 192, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(normalized_mutual_information(a, a), torch.ones(50))
    assert torch.allclose(normalized_mutual_information(a, 3 * a - 2), torch.ones(50))


def test_independent_tokens_have_nmi_zero_on_average():
    a, b = gaussian_pair(0.0, rows=2000, width=192, seed=2)
    values = normalized_mutual_information(a, b)
    assert abs(float(values.mean())) < 0.005
    assert float(values.std()) < 0.05


def test_binned_mi_of_a_gaussian_pair_approaches_the_analytic_value_from_below():
    for rho in (0.5, 0.8, 0.95):
        truth = -0.5 * math.log(1 - rho ** 2)
        x, y = gaussian_pair(rho, rows=2, width=100_000, seed=3)
        coarse = float(binned_mutual_information(x, y, bins=8)[0].mean())
        fine = float(binned_mutual_information(x, y, bins=32)[0].mean())
        assert coarse < fine < truth * 1.03         # discretising loses information; finer bins lose less
        assert fine > truth * 0.9


def test_binned_mi_of_a_noisy_copy_matches_the_exact_discrete_value():
    # b copies a with probability q, else is independent: for B equal bins the exact MI is known.
    q, bins, width = 0.6, 8, 200_000
    generator = torch.Generator().manual_seed(4)
    a, other = torch.rand(2, width, generator=generator), torch.rand(2, width, generator=generator)
    b = torch.where(torch.rand(2, width, generator=generator) < q, a, other)
    exact = ((q + (1 - q) / bins) * math.log(q * bins + 1 - q)
             + (1 - q) * (bins - 1) / bins * math.log(1 - q))
    assert float(binned_mutual_information(a, b, bins)[0].mean()) == pytest.approx(exact, abs=0.03)


def test_nmi_increases_with_dependence():
    values = [float(normalized_mutual_information(*gaussian_pair(rho, 200, 192, seed=5)).mean())
              for rho in (0.0, 0.5, 0.9, 0.99)]
    assert values == sorted(values) and values[-1] > 0.5


def test_estimator_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        binned_mutual_information(torch.zeros(2, 10), torch.zeros(3, 10))


# -- tokens and statistics --------------------------------------------------------------
@pytest.mark.parametrize("depth", ["deep", "shallow"])
def test_block_inputs_are_the_tokens_the_prompted_model_feeds_each_block(tiny_backbone, depth):
    model = PromptedViT(tiny_backbone, PromptConfig(num_prompts=3, depth=depth), 2)
    torch.nn.init.normal_(model.prompts)
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    captured = []
    hooks = [block.register_forward_pre_hook(lambda module, args: captured.append(args[0].detach()))
             for block in model.backbone.blocks]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():
        tokens = block_inputs(model.backbone, model.prompts, images)
    prefix = model.backbone.num_prefix_tokens
    for (prompts, patches), seen in zip(tokens, captured):
        torch.testing.assert_close(prompts, seen[:, prefix:prefix + 3])
        torch.testing.assert_close(patches, seen[:, prefix + 3:])
    if depth == "deep":
        torch.testing.assert_close(tokens[1][0][0], model.prompts[1])


def test_a_prompt_that_copies_a_patch_token_is_recognised():
    generator = torch.Generator().manual_seed(6)
    patches = torch.randn(2, 20, 48, generator=generator)
    prompts = torch.randn(2, 2, 48, generator=generator)
    prompts[:, 0] = patches[:, 7]
    stats = layer_statistics(prompts, patches, generator, samples=20, k=1)
    assert stats["cosine_nearest_per_prompt"][0] == pytest.approx(1.0, abs=1e-4)
    assert stats["cosine_nearest_per_prompt"][1] < 0.9
    assert stats["nmi_per_prompt"][0] > stats["nmi_per_prompt"][1]


def test_observations_are_small_json_and_leave_the_training_mode(tiny_backbone):
    from vpt_engine.analysis import PromptInformationObserver

    model = PromptedViT(tiny_backbone, PromptConfig(num_prompts=2), 2).train()
    record = PromptInformationObserver(torch.randn(3, 3, 32, 32)).observe(model, step=5)
    assert model.training
    assert {len(v) for v in record.values()} == {tiny_backbone.depth}
    json.dumps(record)


def test_statistics_are_reproducible_under_a_seed(tiny_backbone):
    prompts = torch.randn(tiny_backbone.depth, 2, tiny_backbone.embed_dim)
    images = torch.randn(2, 3, 32, 32)
    first = prompt_patch_statistics(tiny_backbone.model, prompts, images, seed=3)
    assert first == prompt_patch_statistics(tiny_backbone.model, prompts, images, seed=3)


def test_the_prompt_information_observer_records_every_layer_while_training(tiny_backbone, make_image_folder):
    from vpt_engine.analysis import PromptInformationObserver
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.events import Finished
    from vpt_engine.training import TrainConfig, train

    data = load_images(scan_image_folder(make_image_folder({"a": 3, "b": 3})), tiny_backbone.preprocess)
    config = TrainConfig(steps=2, batch_size=4, device="cpu")
    observer = PromptInformationObserver(torch.randn(4, 3, 32, 32))
    result = next(e for e in train(tiny_backbone, data, PromptConfig(num_prompts=2), config, observers=[observer])
                  if isinstance(e, Finished)).result
    assert [o["step"] for o in result.observations] == [0, 1, 2]   # before the fit, then at each history point
    assert all(len(o["nmi"]) == tiny_backbone.depth for o in result.observations)


# -- vpt analyze ---------------------------------------------------------------------------
@pytest.fixture
def tiny_pack(tiny_backbone, make_image_folder, tmp_path):
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.events import Finished
    from vpt_engine.taskpack import save_task
    from vpt_engine.training import TrainConfig, train

    def make(init: str):
        root = make_image_folder({"a": 3, "b": 3})
        data = load_images(scan_image_folder(root), tiny_backbone.preprocess)
        config = TrainConfig(steps=2, batch_size=4, device="cpu", seed=4)
        result = next(e for e in train(tiny_backbone, data, PromptConfig(num_prompts=2, init=init), config)
                      if isinstance(e, Finished)).result
        return save_task(result, tiny_backbone, tmp_path / f"{init}.vptask"), root, result

    return make


@pytest.mark.parametrize("init", ["random", "sample", "mean_pool"])
def test_initial_prompts_are_recomputed_as_training_made_them(tiny_backbone, tiny_pack, init):
    from vpt_engine.analysis import recompute_initial_prompts
    from vpt_engine.dataset import load_images, scan_image_folder

    path, root, result = tiny_pack(init)
    data = load_images(scan_image_folder(root), tiny_backbone.preprocess)
    again = recompute_initial_prompts(tiny_backbone, data, result.prompt_config, seed=4, max_images=100)
    torch.testing.assert_close(again, result.prompt_init_values)


def test_vpt_analyze_writes_table_json_and_plot(tiny_pack, tmp_path, capsys):
    from vpt_core.cli import main

    path, root, _ = tiny_pack("sample")
    out = tmp_path / "analysis"
    assert main(["analyze", str(path), str(root), "--out", str(out), "--images", "4", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["layers"]) == 2 and document["images"] == 4
    assert {"nmi", "cosine_nearest", "nmi_patch_patch"} <= set(document["layers"][0]["trained"])
    assert {p.name for p in out.iterdir()} == {"analysis.json", "analysis.md", "analysis.png"}
    assert main(["analyze", str(path), str(root)]) == 0
    assert "NMI initial" in capsys.readouterr().out
