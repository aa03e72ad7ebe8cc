# docker/ and helm/: the image and the chart, tested for real with podman
# (t/integ/container_lib.sh).  The image builds its own programs from the
# sources, so a sanitizer build adds nothing there: these tests run in the
# normal build only (./test's first pass).
EXTRA_DIST += docker/Containerfile docker/entrypoint.sh docker/yaml-set.awk \
	docker/main.cf docker/mkbase.sh docker/README.md .dockerignore helm \
	t/integ/container_lib.sh t/integ/redis.Containerfile t/integ/chart_lib.sh
if !SANITIZERS
INTEG_TESTS += t/integ/docker_image.t t/integ/chart_render.t t/integ/chart_run.t
endif
