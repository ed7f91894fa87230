package fakeaws

import "testing"

// The credentials every test, the demo and the bench sign with. They are
// fake but shaped like real ones (an access key, a secret with '/' and '+',
// a session token), so that a leak into a log would be found by the tests
// that look for them.
const (
	AccessKey    = "AKIAFALCOCWTEST00001"
	SecretKey    = "falcocwTestSecret/DoNotLog+0123456789abcd"
	SessionToken = "falcocwTestSessionToken0123456789"
	Region       = "eu-west-1"
)

// Env is the environment a falcocw under test runs with: the test
// credentials and region, and nothing from the machine (no shared config
// files, no instance metadata).
func Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_SESSION_TOKEN=" + SessionToken,
		"AWS_REGION=" + Region,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetEnv sets Env in the test's own process, for the core's in-process
// tests.
func SetEnv(t testing.TB) {
	for _, kv := range Env() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				t.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
}

// NewVerifying starts a server that checks the SigV4 signature of every
// request against the test credentials, as AWS does.
func NewVerifying() *Server {
	s := New()
	s.VerifySignatures(AccessKey, SecretKey)
	return s
}
