# shellcheck shell=bash
# The images docker-compose.yml runs, built here where no registry answers (infra/images): a
# Debian base made with debootstrap from the apt mirror, then PostgreSQL, Kafka, Connect with
# Debezium and Temporal on it, from the artefacts the native stack already fetches. Each image is
# labelled with a hash of what it is built from and rebuilt only when that changes; the base's
# root file system is cached as a tarball in the cache directory.

: "${TIDEMARK_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
IMAGES_SRC="$TIDEMARK_INFRA/images"
BASE_IMAGE=localhost/tidemark/debian-base:bookworm
BASE_TARBALL="$TIDEMARK_CACHE_DIR/images/debian-bookworm-minbase.tar"

# The variables docker-compose.yml takes its images from, with the local images' names.
images_environment() {
  cat <<ENV
TIDEMARK_POSTGRES_IMAGE=localhost/tidemark/postgres:15
TIDEMARK_KAFKA_IMAGE=localhost/tidemark/kafka:$TIDEMARK_KAFKA_VERSION
TIDEMARK_CONNECT_IMAGE=localhost/tidemark/connect:$TIDEMARK_DEBEZIUM_VERSION
TIDEMARK_TEMPORAL_IMAGE=localhost/tidemark/temporal:${TIDEMARK_TEMPORAL_CLI_VERSION#v}
ENV
}

images_base() {
  podman image exists "$BASE_IMAGE" && return 0
  if [ ! -s "$BASE_TARBALL" ]; then
    log "making a Debian bookworm base with debootstrap from $TIDEMARK_DEBIAN_MIRROR (a minute, once)"
    local root
    root=$(mktemp -d /var/tmp/tidemark-debootstrap.XXXXXX)
    debootstrap --variant=minbase bookworm "$root" "$TIDEMARK_DEBIAN_MIRROR" \
      >>"$TIDEMARK_LOG_DIR/debootstrap.log" 2>&1 \
      || { rm -rf "$root"; die "debootstrap failed; see $TIDEMARK_LOG_DIR/debootstrap.log"; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$(dirname "$BASE_TARBALL")"
    tar -C "$root" -cf "$BASE_TARBALL.part" . && mv "$BASE_TARBALL.part" "$BASE_TARBALL"
    rm -rf "$root"
  fi
  podman import -q "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null || die "podman import of $BASE_TARBALL failed"
}

# Builds one image from a context directory unless an image with the same content hash exists
# (the hash of the context's files, and of the base image's id).
images_build() {
  local name=$1 context=$2 hash base
  base=$(sed -n 's/^FROM //p' "$context/Containerfile")
  hash=$( (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum && podman image inspect --format '{{.Id}}' "$base") | sha256sum | cut -c1-16)
  if [ "$(podman image inspect --format '{{index .Labels "tidemark.content"}}' "$name" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  log "building $name"
  podman build -q --label "tidemark.content=$hash" -t "$name" "$context" \
    >>"$TIDEMARK_LOG_DIR/image-build.log" 2>&1 || die "building $name failed; see $TIDEMARK_LOG_DIR/image-build.log"
}

# A build context: the image's own files, and the artefacts named after them copied in.
images_context() {
  local image=$1 context="$TIDEMARK_STATE_DIR/image-contexts/$1"
  shift
  rm -rf "$context"
  mkdir -p "$context"
  cp -r "$IMAGES_SRC/$image/." "$context/"
  while [ "$#" -gt 0 ]; do
    cp -r "$1" "$context/$2"
    shift 2
  done
  echo "$context"
}

images_up() {
  connect_install
  temporal_install
  images_base
  local env
  env=$(images_environment)
  images_build "$(sed -n 's/^TIDEMARK_POSTGRES_IMAGE=//p' <<<"$env")" "$(images_context postgres)"
  images_build "$(sed -n 's/^TIDEMARK_KAFKA_IMAGE=//p' <<<"$env")" "$(images_context kafka "$KAFKA_LIBS" libs "$TIDEMARK_INFRA/kafka/log4j.properties" log4j.properties)"
  images_build "$(sed -n 's/^TIDEMARK_CONNECT_IMAGE=//p' <<<"$env")" "$(images_context connect "$CONNECT_PLUGINS" plugins)"
  images_build "$(sed -n 's/^TIDEMARK_TEMPORAL_IMAGE=//p' <<<"$env")" "$(images_context temporal "$TEMPORAL_BIN" temporal)"
}
