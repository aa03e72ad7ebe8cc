# docker/ and helm/: the image and the chart, tested for real with podman
# (t/integ/container_lib.sh, ../shared/containers.md).  The image builds
# its own programs from the sources, so a sanitizer build of the tree
# adds nothing there: in the sanitizer pass, a container test that passed
# with the same image in the normal pass says so instead of running its
# containers again (ct_stamp_check).  chart_render.t is cheap and runs in
# both.  (t/integ/ is in EXTRA_DIST as a whole.)
EXTRA_DIST += docker/Containerfile docker/entrypoint.sh docker/yaml-set.awk \
	docker/main.cf docker/mkbase.sh .dockerignore helm
INTEG_TESTS += t/integ/docker_image.t t/integ/chart_render.t t/integ/chart_run.t
if SANITIZERS
AM_TESTS_ENVIRONMENT += RK_SANITIZERS=1; export RK_SANITIZERS;
endif
