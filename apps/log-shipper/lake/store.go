package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
)

// Store is where lake objects land. Put must be atomic: an object is either
// absent or complete under its final key. The Delta log's entries are
// created with PutIfAbsent, which is what makes a commit atomic.
type Store interface {
	// TempDir is where staging files are written before Put.
	TempDir() string
	// Put moves/uploads the staged local file to key (slash separated).
	Put(ctx context.Context, key, staged string) error
	// PutIfAbsent creates key with data or fails with delta.ErrExists.
	PutIfAbsent(ctx context.Context, key string, data []byte) error
	// Get reads an object (delta.ErrNotFound when absent).
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns every key under prefix (recursively), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Modified returns the last-modified times of the keys under prefix.
	Modified(ctx context.Context, prefix string) (map[string]time.Time, error)
	String() string
}

// LocalStore is a lake rooted at a directory. Staging files live in
// Root/.staging/<run>/ so that Put is a same-filesystem rename; the run
// directories of processes that died (kill -9, ENOSPC) are removed when the
// next store opens.
type LocalStore struct {
	Root    string
	staging string
}

// NewLocalStore creates the root and this process's staging directory,
// and removes the staging leftovers of dead processes.
func NewLocalStore(root string) (*LocalStore, error) {
	parent := filepath.Join(root, ".staging")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create lake dir: %w", err)
	}
	if _, err := CleanStaging(parent); err != nil {
		return nil, err
	}
	dir, err := NewStagingDir(parent)
	if err != nil {
		return nil, err
	}
	return &LocalStore{Root: root, staging: dir}, nil
}

func (l *LocalStore) TempDir() string { return l.staging }
func (l *LocalStore) String() string  { return l.Root }

// Close removes this process's staging directory.
func (l *LocalStore) Close() error { return os.RemoveAll(l.staging) }

func (l *LocalStore) path(key string) string { return filepath.Join(l.Root, filepath.FromSlash(key)) }

// PutIfAbsent writes a temp file and hard-links it to key: link fails if
// key exists, so two writers can never both create it.
func (l *LocalStore) PutIfAbsent(_ context.Context, key string, data []byte) error {
	dst := l.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create dir of %s: %w", key, err)
	}
	f, err := os.CreateTemp(l.staging, "entry-*.tmp")
	if err != nil {
		return fmt.Errorf("stage %s: %w", key, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", key, err)
	}
	if err := os.Link(f.Name(), dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return delta.ErrExists
		}
		return fmt.Errorf("create %s: %w", key, err)
	}
	return syncDir(filepath.Dir(dst))
}

// Get reads key.
func (l *LocalStore) Get(_ context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, delta.ErrNotFound)
	}
	return b, err
}

// List walks the directory holding prefix.
func (l *LocalStore) List(_ context.Context, prefix string) ([]string, error) {
	dir := l.path(prefix)
	if !strings.HasSuffix(prefix, "/") {
		dir = filepath.Dir(dir)
	}
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(l.Root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Strings(out)
	return out, nil
}

// Modified implements Store.
func (l *LocalStore) Modified(ctx context.Context, prefix string) (map[string]time.Time, error) {
	keys, err := l.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(keys))
	for _, k := range keys {
		fi, err := os.Stat(l.path(k))
		if err != nil {
			continue // removed meanwhile
		}
		out[k] = fi.ModTime()
	}
	return out, nil
}

// Delete removes key.
func (l *LocalStore) Delete(_ context.Context, key string) error {
	if err := os.Remove(l.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Put renames staged into place after fsyncing it and its directory.
func (l *LocalStore) Put(_ context.Context, key, staged string) error {
	dst := filepath.Join(l.Root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create partition dir: %w", err)
	}
	if err := os.Rename(staged, dst); err != nil {
		return fmt.Errorf("move %s into place: %w", key, err)
	}
	return syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer func() { _ = d.Close() }() // a read-only handle: the fsync is what matters
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// S3API is the part of the S3 client the lake uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3Store is a lake under s3://Bucket/Prefix. A PUT is atomic in S3.
type S3Store struct {
	Client  S3API
	Bucket  string
	Prefix  string
	Staging string
}

func (s *S3Store) TempDir() string { return s.Staging }
func (s *S3Store) String() string  { return "s3://" + s.Bucket + "/" + s.Prefix }

// Put uploads the staged file and removes it.
func (s *S3Store) Put(ctx context.Context, key, staged string) error {
	f, err := os.Open(staged)
	if err != nil {
		return fmt.Errorf("open staged %s: %w", key, err)
	}
	defer os.Remove(staged)
	defer func() { _ = f.Close() }() // read only: the upload's error is the one that matters
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat staged %s: %w", key, err)
	}
	full := path.Join(s.Prefix, key)
	if _, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full),
		Body: f, ContentLength: aws.Int64(st.Size())}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, full, err)
	}
	return nil
}

// PutIfAbsent is a conditional PUT (If-None-Match: *): S3 answers 412
// when the key exists, and 409 when a concurrent conditional write to the
// same key is in flight; both mean another writer got there first.
func (s *S3Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	full := path.Join(s.Prefix, key)
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), IfNoneMatch: aws.String("*")})
	var re *awshttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusPreconditionFailed || re.HTTPStatusCode() == http.StatusConflict) {
		return delta.ErrExists
	}
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, full, err)
	}
	return nil
}

// Get reads key.
func (s *S3Store) Get(ctx context.Context, key string) ([]byte, error) {
	full := path.Join(s.Prefix, key)
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full)})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, fmt.Errorf("s3://%s/%s: %w", s.Bucket, full, delta.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, full, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, full, err)
	}
	return b, nil
}

// List lists the keys under prefix (relative to the store's prefix).
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	base := strings.TrimSuffix(s.Prefix, "/")
	if base != "" {
		base += "/"
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(base + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s%s: %w", s.Bucket, base, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), base))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Modified implements Store.
func (s *S3Store) Modified(ctx context.Context, prefix string) (map[string]time.Time, error) {
	base := strings.TrimSuffix(s.Prefix, "/")
	if base != "" {
		base += "/"
	}
	out := map[string]time.Time{}
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(base + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s%s: %w", s.Bucket, base, prefix, err)
		}
		for _, o := range page.Contents {
			out[strings.TrimPrefix(aws.ToString(o.Key), base)] = aws.ToTime(o.LastModified)
		}
	}
	return out, nil
}

// Delete removes key.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	full := path.Join(s.Prefix, key)
	if _, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", s.Bucket, full, err)
	}
	return nil
}

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(u string) (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, prefix, bucket != ""
}
