/** Injection token of the {@link ClusterDriver} the provisioner runs stores on. */
export const CLUSTER_DRIVER = Symbol('CLUSTER_DRIVER');
