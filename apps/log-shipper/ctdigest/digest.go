// Package ctdigest validates CloudTrail log file integrity from the digest
// files a trail with log file validation delivers (AWS CloudTrail user
// guide, "Validating CloudTrail log file integrity" and "Custom
// implementations"): each digest is signed (SHA256withRSA, the signature hex
// encoded in the object's x-amz-meta-signature) over
//
//	digestEndTime "\n" digestS3Bucket "/" digestS3Object "\n"
//	hex(SHA-256(uncompressed digest)) "\n" previousDigestSignature (or "null")
//
// with a regional key whose fingerprint the digest names (the keys come
// from CloudTrail ListPublicKeys); it lists the SHA-256 of every log file's
// uncompressed content delivered in its hour, and chains to the previous
// digest by that digest's signature and hash. A tampered or missing log
// file, a digest whose signature does not verify, a digest moved from where
// it was delivered, a missing digest and a gap in the chain are reported.
package ctdigest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Digest is one digest file.
type Digest struct {
	AWSAccountID          string    `json:"awsAccountId"`
	DigestStartTime       string    `json:"digestStartTime"`
	DigestEndTime         string    `json:"digestEndTime"`
	DigestS3Bucket        string    `json:"digestS3Bucket"`
	DigestS3Object        string    `json:"digestS3Object"`
	PublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	SignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	PreviousDigestBucket  *string   `json:"previousDigestS3Bucket"`
	PreviousDigestObject  *string   `json:"previousDigestS3Object"`
	PreviousDigestHash    *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlg *string   `json:"previousDigestHashAlgorithm"`
	PreviousSignature     *string   `json:"previousDigestSignature"`
	LogFiles              []LogFile `json:"logFiles"`
}

// LogFile is a log file a digest vouches for.
type LogFile struct {
	S3Bucket      string `json:"s3Bucket"`
	S3Object      string `json:"s3Object"`
	HashValue     string `json:"hashValue"`
	HashAlgorithm string `json:"hashAlgorithm"`
}

// ParseDigest decodes an uncompressed digest file; fields the validation
// needs must be present.
func ParseDigest(b []byte) (*Digest, error) {
	var d Digest
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("not a CloudTrail digest: %w", err)
	}
	var missing []string
	for name, v := range map[string]string{"digestEndTime": d.DigestEndTime, "digestS3Bucket": d.DigestS3Bucket,
		"digestS3Object": d.DigestS3Object, "digestPublicKeyFingerprint": d.PublicKeyFingerprint, "digestStartTime": d.DigestStartTime} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("CloudTrail digest lacks %s", strings.Join(missing, ", "))
	}
	if d.SignatureAlgorithm != "" && d.SignatureAlgorithm != "SHA256withRSA" {
		return nil, fmt.Errorf("digest signature algorithm %q (only SHA256withRSA is defined)", d.SignatureAlgorithm)
	}
	return &d, nil
}

// StringToSign is the data signing string of a digest whose uncompressed
// content is raw.
func (d *Digest) StringToSign(raw []byte) []byte {
	prev := "null"
	if d.PreviousSignature != nil {
		prev = *d.PreviousSignature
	}
	sum := sha256.Sum256(raw)
	return []byte(d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev)
}

// Verify checks the digest's signature (hex) with the key of its
// fingerprint.
func (d *Digest) Verify(raw []byte, signatureHex string, keys Keys) error {
	pub, ok := keys[d.PublicKeyFingerprint]
	if !ok {
		return fmt.Errorf("no public key with fingerprint %s (pass the output of aws cloudtrail list-public-keys for the digest's time)", d.PublicKeyFingerprint)
	}
	sig, err := hex.DecodeString(strings.TrimSpace(signatureHex))
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("signature metadata is not hex: %q", clip(signatureHex))
	}
	sum := sha256.Sum256(d.StringToSign(raw))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("signature does not verify: the digest was altered or not signed by CloudTrail")
	}
	return nil
}

// Keys are CloudTrail's public keys by fingerprint.
type Keys map[string]*rsa.PublicKey

// ParseKeys reads the JSON of `aws cloudtrail list-public-keys` (or the
// ListPublicKeys API): {"PublicKeyList":[{"Value": base64 DER PKCS#1,
// "Fingerprint": ...}]}.
func ParseKeys(b []byte) (Keys, error) {
	var in struct {
		PublicKeyList []struct {
			Value       string
			Fingerprint string
		}
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("public keys: not list-public-keys JSON: %w", err)
	}
	out := Keys{}
	for i, k := range in.PublicKeyList {
		der, err := base64.StdEncoding.DecodeString(k.Value)
		if err != nil {
			return nil, fmt.Errorf("public key %d (%s): Value is not base64: %w", i, k.Fingerprint, err)
		}
		pub, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("public key %d (%s): not a PKCS#1 RSA key: %w", i, k.Fingerprint, err)
		}
		out[k.Fingerprint] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("public keys: PublicKeyList is empty")
	}
	return out, nil
}

// inflate returns the uncompressed content of a (possibly gzip) object.
func inflate(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
