package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is where lake objects land. Put must be atomic: an object is either
// absent or complete under its final key.
type Store interface {
	// TempDir is where staging files are written before Put.
	TempDir() string
	// Put moves/uploads the staged local file to key (slash separated).
	Put(ctx context.Context, key, staged string) error
	String() string
}

// LocalStore is a lake rooted at a directory. Staging files live in
// Root/.staging so that Put is a same-filesystem rename.
type LocalStore struct{ Root string }

// NewLocalStore creates the root and staging directories.
func NewLocalStore(root string) (*LocalStore, error) {
	if err := os.MkdirAll(filepath.Join(root, ".staging"), 0o755); err != nil {
		return nil, fmt.Errorf("create lake dir: %w", err)
	}
	return &LocalStore{Root: root}, nil
}

func (l *LocalStore) TempDir() string { return filepath.Join(l.Root, ".staging") }
func (l *LocalStore) String() string  { return l.Root }

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
	defer d.Close()
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
	defer f.Close()
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

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(u string) (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, prefix, bucket != ""
}

// Input is one file to ingest.
type Input struct {
	Name string // shown in reports and quarantine entries
	Base string // base name, part of the content hash
	Size int64
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// LocalInputs lists a file, or the regular files under a directory (sorted,
// hidden entries skipped).
func LocalInputs(p string) ([]Input, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var files []string
	if !st.IsDir() {
		files = []string{p}
	} else {
		err := filepath.WalkDir(p, func(fp string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && fp != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, fp)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		sort.Strings(files)
	}
	out := make([]Input, 0, len(files))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		out = append(out, Input{Name: f, Base: filepath.Base(f), Size: fi.Size(),
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(f) }})
	}
	return out, nil
}

// S3Inputs lists the objects under s3://bucket/prefix.
func S3Inputs(ctx context.Context, client S3API, bucket, prefix string) ([]Input, error) {
	var out []Input
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			out = append(out, Input{Name: "s3://" + bucket + "/" + key, Base: path.Base(key), Size: aws.ToInt64(o.Size),
				Open: func(ctx context.Context) (io.ReadCloser, error) {
					r, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
					if err != nil {
						return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
					}
					return r.Body, nil
				}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
