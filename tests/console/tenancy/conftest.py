"""What the tenancy tests share: an expectation that monitoring stays out of shop."""

import pytest

from console.core import cluster

MONITORING = "kubesphere-monitoring-system"


@pytest.fixture
def monitoring_kept_out_of_shop(demo_cluster):
    cluster.gateway().create({
        "apiVersion": "isolation.tenant-console.io/v1alpha1",
        "kind": "ClusterConnectivityExpectation",
        "metadata": {"name": "monitoring-stays-out-of-shop"},
        "spec": {"from": {"namespace": MONITORING}, "to": {"namespace": "shop"},
                 "expect": "Denied"}})
    return demo_cluster
