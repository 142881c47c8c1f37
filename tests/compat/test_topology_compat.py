"""A 0.1.x-style script: how much bandwidth does a 3-D torus leave each node, next to a fat tree?"""
import mlsysim
from mlsysim.solvers import TopologyModel


def test_topology_script():
    fabric = mlsysim.Systems.Fabrics.InfiniBand_NDR
    fat = TopologyModel().solve(fabric, "fat_tree", 512)
    torus = TopologyModel().solve(fabric, topology="torus_3d", num_nodes=512)
    assert fat.topology == "fat_tree" and torus.num_nodes == 512
    assert fat.bisection_bw_fraction == 1.0
    assert torus.bisection_bw.to("GB/s").magnitude < fat.bisection_bw.to("GB/s").magnitude
    assert torus.effective_bw.to("GB/s").magnitude > 0
    assert torus.hops_avg > fat.hops_avg
    print(fat)
    print(torus.to_json())
