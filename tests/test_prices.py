"""Cloud prices per device-hour ([device.cloud_price]): sourced, consistent, validated at load."""

import pytest

from symsys.errors import RegistryError
from symsys.registry.hardware import Hardware, load

PRICED = [d for d in Hardware if d.cloud_price is not None]

# 24 devices are sourced so far (see the registry README for what is still missing).
# The floor guards against entries silently dropping out.
MIN_PRICED = 24


def test_enough_devices_have_a_cloud_price():
    assert len(PRICED) >= MIN_PRICED, [d.key for d in PRICED]


@pytest.mark.parametrize("device", PRICED, ids=lambda d: d.key)
def test_hourly_is_positive_and_is_the_instance_price_per_device(device):
    price = device.cloud_price
    assert price.hourly.m_as("USD/hour") > 0
    assert price.devices_per_instance >= 1
    per_device = (price.instance_hourly / price.devices_per_instance).m_as("USD/hour")
    assert price.hourly.m_as("USD/hour") == pytest.approx(per_device, rel=0.01)
    assert price.provider and price.instance and price.region and price.date
    assert price.source.url.startswith("https://")


def test_h100_on_aws_p5_matches_the_cited_catalog_row():
    # catalogs/v7/aws/vms.csv @ 001367d2: p5.48xlarge, 8x H100, us-east-1, on-demand 98.32
    price = Hardware.H100.cloud_price
    assert price.provider == "AWS" and price.instance == "p5.48xlarge"
    assert price.instance_hourly.m_as("USD/hour") == pytest.approx(98.32)
    assert price.devices_per_instance == 8
    assert price.hourly.m_as("USD/hour") == pytest.approx(12.29)


def test_tpu_v6e_matches_the_cited_catalog_row():
    # catalogs/v7/gcp/vms.csv @ 017e2502: tpu-v6e-8, us-central1, on-demand 21.6 (8 chips)
    price = Hardware.TPUv6e.cloud_price
    assert price.provider == "Google Cloud" and price.instance == "tpu-v6e-8"
    assert price.hourly.m_as("USD/hour") == pytest.approx(2.70)



# One hand-checked row per provider/instance added after the first 18 (instance price / devices).
@pytest.mark.parametrize("key, provider, instance, instance_hourly, devices, hourly", [
    # catalogs/v7/aws/vms.csv @ 27f67dd4: g6e.xlarge, 1x L40S, us-east-1, 1.861
    ("L40S", "AWS", "g6e.xlarge", 1.861, 1, 1.861),
    # catalogs/v7/aws/vms.csv @ 27f67dd4: inf2.48xlarge, 12x Inferentia2, us-east-1, 12.98127
    ("Inferentia2", "AWS", "inf2.48xlarge", 12.98127, 12, 1.0817725),
    # catalogs/v7/aws/vms.csv @ 27f67dd4: trn2.48xlarge, us-east-2, 85.964; 16 Trainium2 per Neuron docs
    ("Trainium2", "AWS", "trn2.48xlarge", 85.964, 16, 5.37275),
    # catalogs/v7/nebius/vms.csv @ 22fd1fea: gpu-b200-sxm_8gpu-160vcpu-1792gb, us-central1, 44.00
    ("B200", "Nebius", "gpu-b200-sxm_8gpu-160vcpu-1792gb", 44.00, 8, 5.50),
    # catalogs/v6/azure/vms.csv @ 098741e7: Standard_NC40ads_H100_v5 (1x H100 NVL), eastus, 6.98
    ("H100_NVL", "Azure", "Standard_NC40ads_H100_v5", 6.98, 1, 6.98),
    # catalogs/v7/shadeform/vms.csv @ 1e84987d: excesssupply_RTX5090, oslo-norway-3, 0.8
    ("RTX5090", "Shadeform (excesssupply)", "excesssupply_RTX5090", 0.8, 1, 0.8),
])
def test_added_prices_match_their_catalog_rows(key, provider, instance, instance_hourly, devices, hourly):
    price = getattr(Hardware, key).cloud_price
    assert price.provider == provider and price.instance == instance
    assert price.devices_per_instance == devices
    assert price.instance_hourly.m_as("USD/hour") == pytest.approx(instance_hourly)
    assert price.hourly.m_as("USD/hour") == pytest.approx(hourly, rel=1e-6)
    assert price.hourly.m_as("USD/hour") == pytest.approx(instance_hourly / devices, rel=1e-6)

def _entry(cloud_price: str) -> str:
    return ('[[device]]\nkey = "X"\nname = "X"\ngroup = "Cloud"\nvendor = "v"\nyear = 2020\n'
            'source = { document = "d", url = "http://x", date = "2020-01-01" }\n'
            '[device.peak_dense]\nfp16 = "100 TFLOP/s"\n'
            '[device.memory]\ncapacity = "80 GB"\nbandwidth = "2 TB/s"\n'
            '[device.cloud_price]\n' + cloud_price +
            'provider = "AWS"\ninstance = "p5.48xlarge"\nregion = "us-east-1"\n'
            'date = "2026-11-28"\n'
            'source = { document = "d", url = "https://x", retrieved = "2026-11-28" }\n')


def test_a_consistent_entry_loads(tmp_path):
    good = tmp_path / "hardware_good.toml"
    good.write_text(_entry('hourly = "12.29 USD/hour"\ninstance_hourly = "98.32 USD/hour"\n'
                           'devices_per_instance = 8\n'))
    (device,) = load(paths=[good])
    assert device.cloud_price.hourly.m_as("USD/hour") == pytest.approx(12.29)


def test_an_inconsistent_instance_price_is_a_load_error(tmp_path):
    bad = tmp_path / "hardware_bad.toml"
    bad.write_text(_entry('hourly = "12.29 USD/hour"\ninstance_hourly = "98.32 USD/hour"\n'
                          'devices_per_instance = 4\n'))
    with pytest.raises(RegistryError, match=r"hardware_bad.toml: device\[0\] \(X\)\.cloud_price"):
        load(paths=[bad])


def test_a_price_in_the_wrong_unit_is_a_load_error(tmp_path):
    bad = tmp_path / "hardware_bad.toml"
    bad.write_text(_entry('hourly = "12.29 USD"\ninstance_hourly = "98.32 USD/hour"\n'
                          'devices_per_instance = 8\n'))
    with pytest.raises(RegistryError, match=r"cloud_price\.hourly"):
        load(paths=[bad])
