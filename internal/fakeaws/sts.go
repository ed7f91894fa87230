package fakeaws

import (
	"net/url"
	"time"
)

// The credentials AssumeRole hands out; requests signed with them are
// checked too.
const (
	AssumedAccessKey = "ASIAFALCOCWASSUMED01"
	AssumedSecretKey = "falcocwAssumedSecret/DoNotLog+0123456789ab"
)

// AssumedRole is one AssumeRole call: the role and the external ID asked
// for.
type AssumedRole struct {
	RoleARN, ExternalID, SessionName string
}

// assumeRole answers STS AssumeRole with credentials of the role, and
// remembers the call.
func (s *Server) assumeRole(form url.Values, reqID string) string {
	s.mu.Lock()
	s.assumed = append(s.assumed, AssumedRole{RoleARN: form.Get("RoleArn"), ExternalID: form.Get("ExternalId"), SessionName: form.Get("RoleSessionName")})
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[AssumedAccessKey] = AssumedSecretKey
	s.mu.Unlock()
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
		`<AccessKeyId>` + AssumedAccessKey + `</AccessKeyId><SecretAccessKey>` + AssumedSecretKey + `</SecretAccessKey>` +
		`<SessionToken>falcocwAssumedSessionToken</SessionToken><Expiration>` + exp + `</Expiration></Credentials>` +
		`<AssumedRoleUser><Arn>` + form.Get("RoleArn") + `/` + form.Get("RoleSessionName") + `</Arn><AssumedRoleId>AROAFALCOCW:` + form.Get("RoleSessionName") + `</AssumedRoleId></AssumedRoleUser>` +
		`</AssumeRoleResult><ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></AssumeRoleResponse>`
}

// Assumed returns the AssumeRole calls made.
func (s *Server) Assumed() []AssumedRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumedRole(nil), s.assumed...)
}

// SignedBy returns the access keys that signed the requests of an
// operation, in order.
func (s *Server) SignedBy(op string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signers[op]...)
}
