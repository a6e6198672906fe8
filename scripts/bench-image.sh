# Sourced by the bench scripts: builds gpubom and the bench image generator
# (release), and sets $image to the generated CUDA-shaped image of $1 MiB
# (default 1024), made once and kept in target/bench.
size=${1:-1024}
out=target/bench
mkdir -p "$out"
cargo build --release --quiet --bin gpubom
cargo build --release --quiet -p gpubom-testkit --bin gpubom-bench-image
image="$out/bench-${size}mb.tar"
[ -f "$image" ] || ./target/release/gpubom-bench-image "$image" "$size"
