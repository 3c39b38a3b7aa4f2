"""The figures: what they draw is what the solvers return (positions read back from the
artists), axes are log with units, labels do not overlap, files are written."""

import itertools
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import symsys  # noqa: E402
from symsys import Q_, Engine, SensitivitySolver, WeightStreamingModel, Workload  # noqa: E402
from symsys.cli import main  # noqa: E402
from symsys.registry import Hardware, Models  # noqa: E402
from symsys.viz import style  # noqa: E402
from symsys.viz.plots import (  # noqa: E402
    plot_roofline,
    plot_sensitivity,
    plot_streaming,
    plot_sweep,
)

H100, A100 = Hardware.Cloud.H100, Hardware.Cloud.A100
LLAMA = Models.Llama3_8B


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def line(ax, gid):
    found = [artist for artist in ax.lines if artist.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {[a.get_gid() for a in ax.lines]}"
    return found[0]


def achieved(result, unit="TFLOP/s"):
    return (result.flops / result.latency).m_as(unit)


# --- roofline ----------------------------------------------------------------------------------

def test_seed_call_draws_the_law_and_the_solver(tmp_path):
    fig, ax = plot_roofline(H100, workloads=[LLAMA])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "FLOP/byte" in ax.get_xlabel() and "(TFLOP/s)" in ax.get_ylabel()
    ridge = H100.ridge_point("fp16").m_as("FLOP/B")
    assert np.all(line(ax, "ridge:H100").get_xdata() == ridge)
    x, y = line(ax, "ridge-point:H100").get_data()
    assert x[0] == ridge and y[0] == pytest.approx(H100.compute.peak("fp16").m_as("TFLOP/s"))
    r = Engine.solve(model=LLAMA, hardware=H100, batch_size=1, precision="fp16")
    x, y = line(ax, "workload:Llama3_8B:H100").get_data()
    assert x[0] == r.arithmetic_intensity.m_as("FLOP/B")
    assert y[0] == pytest.approx(achieved(r), rel=1e-12)
    # the point sits on the ceiling (speed of light, no overhead): the roof holds the kink
    cx, cy = line(ax, "ceiling:H100").get_data()
    assert np.interp(np.log(x[0]), np.log(cx), np.log(cy)) == pytest.approx(np.log(y[0]))
    assert cy.max() == pytest.approx(H100.compute.peak("fp16").m_as("TFLOP/s"))
    assert ridge in cx
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Llama3_8B b=1" in texts and "Memory-bound" in texts and "ridge 295.3" in texts
    fig.savefig(tmp_path / "roofline.png")
    assert (tmp_path / "roofline.png").stat().st_size > 10_000


def test_efficiency_devices_and_trajectory_come_from_the_solver():
    batches = [1, 16, 256, 1024]
    fig, ax = plot_roofline([A100, H100], workloads=[LLAMA], efficiency=(0.7, 0.8),
                            batch_sizes=batches)
    for hw in (A100, H100):
        derated = line(ax, f"derated:{hw.key}")
        assert derated.get_linestyle() == "--"
        ridge = symsys.evaluate("roofline", ["I_ridge"], Pi=hw.compute.peak("fp16"),
                                beta=hw.memory.bandwidth, eta_c=0.7, eta_m=0.8)["I_ridge"]
        assert line(ax, f"derated-ridge-point:{hw.key}").get_xdata()[0] == pytest.approx(
            ridge.m_as("FLOP/B"), rel=1e-12)
        xs, ys = line(ax, f"trajectory:Llama3_8B:{hw.key}").get_data()
        solved = [Engine.solve(LLAMA, hw, batch_size=b, efficiency=(0.7, 0.8)) for b in batches]
        assert list(xs) == [r.arithmetic_intensity.m_as("FLOP/B") for r in solved]
        assert list(ys) == pytest.approx([achieved(r) for r in solved], rel=1e-12)
        # the workload point is solved with the same efficiency
        r = Engine.solve(LLAMA, hw, batch_size=1, efficiency=(0.7, 0.8))
        assert line(ax, f"workload:Llama3_8B:{hw.key}").get_ydata()[0] == pytest.approx(
            achieved(r), rel=1e-12)
    # the intensity grows with the batch and crosses the A100's ridge: compute-bound there
    assert xs[-1] > A100.ridge_point().m_as("FLOP/B")


def test_an_inference_result_is_plotted_as_solved():
    r = Engine.solve(Models.Llama3_70B, H100, batch_size=64, seq_len=1024)
    fig, ax = plot_roofline(A100, workloads=[r])  # its device is added to the figure
    x, y = line(ax, "workload:Llama3_70B:H100").get_data()
    assert (x[0], y[0]) == (r.arithmetic_intensity.m_as("FLOP/B"), pytest.approx(achieved(r)))
    line(ax, "ceiling:H100")
    line(ax, "ceiling:A100")


def _boxes(fig, ax, prefix):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the text's own box (an Annotation's extent would include its leader line)
    return [matplotlib.text.Text.get_window_extent(t, renderer) for t in ax.texts
            if (t.get_gid() or "").startswith(prefix)]


def test_six_workload_labels_do_not_overlap():
    workloads = [LLAMA, Models.Llama3_70B, Models.Mistral_7B, Models.GPT2, Models.ResNet50,
                 Models.BERT_Base]
    fig, ax = plot_roofline([A100, H100, Hardware.B200], workloads=workloads)
    boxes = _boxes(fig, ax, "label:")
    assert len(boxes) == 6
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    axes_box = ax.get_window_extent()
    for box in boxes:  # inside the axes, not clipped by the figure edge
        assert axes_box.x0 - 1 <= box.x0 and box.x1 <= axes_box.x1 + 1


def test_spread_keeps_order_gap_and_bounds():
    ys = style.spread([0.5, 0.5, 0.49, 0.1, 0.02], 0.05)
    ordered = sorted(ys, reverse=True)
    assert all(a - b >= 0.05 - 1e-12 for a, b in itertools.pairwise(ordered))
    assert min(ys) >= 0.03 - 1e-12 and max(ys) <= 0.97


def test_palette_is_okabe_ito():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
                 "#000000"}
    assert set(style.PALETTE) == okabe_ito


# --- sweep -------------------------------------------------------------------------------------

def test_sweep_marks_the_crossover_batch_and_plots_the_sweep():
    batches = [2**k for k in range(11)]
    fig, (ax_lat, ax_thr) = plot_sweep(LLAMA, [A100, H100], batch_sizes=batches)
    for ax in (ax_lat, ax_thr):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert "Batch size" in ax.get_xlabel()
    assert "(ms)" in ax_lat.get_ylabel() and "(tokens/s)" in ax_thr.get_ylabel()
    result = symsys.sweep(model=LLAMA, hardware=[A100, H100], batch_size=batches)
    for hw in (A100, H100):
        crossover = Engine.solve(LLAMA, hw, batch_size=1).crossover_batch
        for ax in (ax_lat, ax_thr):
            assert np.all(np.asarray(line(ax, f"crossover:{hw.key}").get_xdata()) == crossover)
        rows = np.asarray(result.hardware) == hw.key
        x, y = line(ax_lat, f"series:{hw.key}").get_data()
        assert list(x) == batches
        assert list(y) == pytest.approx(list(result.latency[rows].m_as("ms")), rel=1e-12)
        _, y = line(ax_thr, f"series:{hw.key}").get_data()
        assert list(y) == pytest.approx(list(result.throughput[rows].m_as("token/s")))
    assert {t.get_text() for t in ax_lat.texts} >= {"A100 crossover\nb = 154",
                                                    "H100 crossover\nb = 297"}


def test_sweep_over_context_marks_infeasible_and_hides_zero():
    fig, (ax_lat, _) = plot_sweep(LLAMA, H100, seq_lens=[0, 512, 2048, 8192], batch_size=256)
    assert "Context length" in ax_lat.get_xlabel()
    x = line(ax_lat, "series:H100").get_xdata()
    assert 0 not in x
    assert line(ax_lat, "infeasible:H100").get_linestyle() == ":"
    notes = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "context 0 not shown" in notes


# --- sensitivity -------------------------------------------------------------------------------

def _bar(ax, gid):
    found = [p for p in ax.patches if p.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def test_tornado_bars_are_the_elasticities_and_binding_is_highlighted():
    r = SensitivitySolver().solve(model=LLAMA, hardware=H100, batch_size=512)
    fig, ax = plot_sensitivity(r)
    for lever, value in r.sensitivities.items():
        if abs(value) > 1e-12:
            assert _bar(ax, f"bar:{lever}").get_width() == value
    binding = _bar(ax, f"bar:{r.binding_constraint}")
    assert matplotlib.colors.to_hex(binding.get_facecolor()) == style.PALETTE[1].lower()
    labels = {t.get_text(): t for t in ax.get_yticklabels()}
    bold = [t for t, label in labels.items() if label.get_fontweight() == "bold"]
    assert bold == [r.binding_constraint.replace("_", " ") + "  (binding)"]
    # the biggest lever is on top
    assert ax.get_yticklabels()[-1].get_text().startswith(r.binding_constraint.replace("_", " "))


def test_tornado_at_the_ridge_shows_both_one_sided_values():
    at_ridge = Workload("at the ridge", flops_per_sample=Q_(989.4, "TFLOP"),
                        bytes_per_sample=Q_(3.35, "TB"), weight_bytes=Q_(0, "B"))
    r = SensitivitySolver().solve(model=at_ridge, hardware=H100)
    assert r.at_kink
    fig, ax = plot_sensitivity(model=at_ridge, hardware=H100)
    value = r.sensitivities["memory_bandwidth"]
    assert _bar(ax, "bar-left:memory_bandwidth").get_width() == value.left
    assert _bar(ax, "bar-right:memory_bandwidth").get_width() == value.right
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "one-sided" in notes


def test_tornado_of_an_infeasible_baseline_says_so():
    fig, ax = plot_sensitivity({"model": Models.GPT3, "hardware": H100})
    notes = " ".join(t.get_text() for t in ax.texts)
    reason = Engine.solve(Models.GPT3, H100).reason
    assert "Does not fit" in notes and reason in notes


# --- streaming ---------------------------------------------------------------------------------

def test_streaming_walls_are_the_solver_s():
    batches = [1, 2, 3, 4, 10, 100, 1000, 10_000, 100_000, 400_000]
    fig, ax = plot_streaming(Models.GPT3, Hardware.Cerebras_CS3, 2048, batches)
    base = WeightStreamingModel().solve(Models.GPT3, Hardware.Cerebras_CS3, seq_len=2048)
    assert np.all(np.asarray(line(ax, "B_star").get_xdata()) == base.optimal_batch_size)
    assert np.all(np.asarray(line(ax, "b_max").get_xdata()) == base.max_feasible_batch)
    shaded = [p for p in ax.patches if p.get_gid() == "infeasible"]
    assert len(shaded) == 1
    assert shaded[0].get_x() == pytest.approx(base.raw["b_max"])  # the law's exact root
    solved = [WeightStreamingModel().solve(Models.GPT3, Hardware.Cerebras_CS3, seq_len=2048, batch_size=b)
              for b in batches]
    assert list(line(ax, "injection").get_ydata()) == pytest.approx(
        [r.layer_injection_time.m_as("ms") for r in solved])
    assert list(line(ax, "compute").get_ydata()) == pytest.approx(
        [r.layer_compute_time.m_as("ms") for r in solved])
    op = line(ax, "operating")
    assert op.get_xdata()[0] == base.operating_batch
    assert ax.get_xscale() == "log" and "(ms)" in ax.get_ylabel()


# --- command line ------------------------------------------------------------------------------

def test_cli_writes_the_roofline_and_reports_its_marks(tmp_path, capsys):
    out = tmp_path / "roofline.png"
    assert main(["plot", "roofline", "H100", "--workload", "Llama3_8B", "--out", str(out),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert out.stat().st_size > 10_000
    assert data["marks"]["ridge:H100"][0] == H100.ridge_point().m_as("FLOP/B")
    r = Engine.solve(LLAMA, H100)
    assert data["marks"]["workload:Llama3_8B:H100"][0] == r.arithmetic_intensity.m_as("FLOP/B")


@pytest.mark.parametrize("args", [
    ["sweep", "Llama3_8B", "A100,H100", "--batch-sizes", "1,16,256,1024"],
    ["sensitivity", "Llama3_8B", "H100", "--batch-size", "512"],
    ["streaming", "GPT3", "Cerebras_CS3", "--seq-len", "2048", "--batch-sizes", "1:100:9"],
])
def test_cli_other_kinds(tmp_path, capsys, args):
    out = tmp_path / f"{args[0]}.svg"
    assert main(["plot", *args, "--out", str(out)]) == 0
    assert out.read_text().startswith("<?xml")
    assert capsys.readouterr().out.strip() == f"wrote {out}"


def test_cli_plot_mistake_is_one_line(capsys):
    assert main(["plot", "streaming", "Llama3_8B", "H100", "--seq-len", "128"]) == 1
    assert capsys.readouterr().err.strip().count("\n") == 0
