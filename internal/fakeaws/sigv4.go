package fakeaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// VerifySignatures makes the server check the SigV4 signature of every
// request signed with accessKey, as AWS does, and refuse one that does not
// match (403 InvalidSignatureException): the body as sent, the signed
// headers, the scope. A client that changed a request after signing it, or
// hashed another body than it sent, is caught. Requests signed with
// other access keys are not checked, nor any request to a Light server.
func (s *Server) VerifySignatures(accessKey, secretKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[accessKey] = secretKey
}

// Verified returns how many requests had their signature checked and found
// right.
func (s *Server) Verified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verified
}

// checkSignature verifies r's SigV4 signature over body when the server
// knows the access key's secret. It returns "" when the signature is right
// or not checked, else why it is wrong.
func (s *Server) checkSignature(r *http.Request, body []byte) string {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	fields := map[string]string{}
	for _, f := range strings.Split(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return fmt.Sprintf("malformed Credential %q", fields["Credential"])
	}
	s.mu.Lock()
	secret, known := s.secrets[scope[0]]
	s.mu.Unlock()
	if !known {
		return ""
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, scope[1]) {
		return fmt.Sprintf("X-Amz-Date %q is not of the credential's date %s", amzDate, scope[1])
	}
	want := sign(secret, r, fields["SignedHeaders"], body, amzDate, scope[1], scope[2], scope[3])
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "the request signature we calculated does not match the signature you provided"
	}
	s.mu.Lock()
	s.verified++
	s.mu.Unlock()
	return ""
}

// sign computes the SigV4 signature of r with body, over the headers named
// in signedHeaders (";"-separated, lower case), as the AWS documentation's
// "Create a signed AWS API request" describes it.
func sign(secret string, r *http.Request, signedHeaders string, body []byte, amzDate, date, region, service string) string {
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range strings.Split(signedHeaders, ";") {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canon.WriteString("\n" + signedHeaders + "\n")
	bodyHash := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(bodyHash[:]))
	canonHash := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + date + "/" + region + "/" + service + "/aws4_request\n" + hex.EncodeToString(canonHash[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{date, region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
