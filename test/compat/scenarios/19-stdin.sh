echo hello | docker run --rm -i busybox cat
printf 'a\nb\nc\n' | docker run --rm -i busybox wc -l
echo ignored | docker run --rm busybox cat
