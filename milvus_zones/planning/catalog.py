"""Facts about the outside world that the spec and planner rely on, with their sources."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPin:
    """A Milvus minor version and the chart release that ships its last patch."""

    chart_version: str
    app_version: str
    repo: str = "https://zilliztech.github.io/milvus-helm/"

    @property
    def major(self) -> int:
        return int(self.chart_version.split(".")[0])


# zilliztech/milvus-helm Chart.yaml appVersion of each pinned chart (design brief, section 3).
CHARTS: dict[str, ChartPin] = {
    "2.4": ChartPin("4.2.25", "2.4.17"),
    "2.5": ChartPin("4.2.58", "2.5.16"),
    "2.6": ChartPin("5.0.19", "2.6.15"),
}

# Zones per region that offer the ECS families we default to. Regions listed have three or more
# zones, which every multi-zone mode needs (Alibaba Cloud region and zone list).
REGION_ZONES: dict[str, tuple[str, ...]] = {
    "cn-hangzhou": ("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k", "cn-hangzhou-b", "cn-hangzhou-g"),
    "cn-shanghai": ("cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n", "cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"),
    "cn-beijing": ("cn-beijing-h", "cn-beijing-i", "cn-beijing-j", "cn-beijing-k", "cn-beijing-l", "cn-beijing-g"),
    "cn-zhangjiakou": ("cn-zhangjiakou-a", "cn-zhangjiakou-b", "cn-zhangjiakou-c"),
    "cn-wulanchabu": ("cn-wulanchabu-a", "cn-wulanchabu-b", "cn-wulanchabu-c"),
    "cn-shenzhen": ("cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"),
    "cn-hongkong": ("cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"),
    "ap-southeast-5": ("ap-southeast-5a", "ap-southeast-5b", "ap-southeast-5c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
}

# Regions where OSS offers zone-redundant storage (Alibaba OSS disaster-recovery docs).
OSS_ZRS_REGIONS: frozenset[str] = frozenset(
    {
        "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-zhangjiakou", "cn-wulanchabu", "cn-shenzhen",
        "cn-hongkong", "ap-northeast-1", "ap-southeast-1", "ap-southeast-5", "eu-central-1",
    }
)


def oss_endpoint(region: str, internal: bool = True) -> str:
    """OSS endpoint host; pods reach the internal endpoint from inside the VPC."""
    return f"oss-{region}{'-internal' if internal else ''}.aliyuncs.com"
