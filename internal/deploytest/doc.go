// Package deploytest holds the tests of the deployment files: the
// Dockerfile, the ECS task definition and IAM policy, the EKS manifests
// and every Fluent Bit configuration that names falcocw.
package deploytest
