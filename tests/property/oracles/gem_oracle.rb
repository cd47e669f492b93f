# Reads "a<TAB>b" lines and prints Gem::Version a <=> b, or INVALID if either is malformed.
$stdout.sync = true
$stdin.each_line do |line|
  a, b = line.chomp.split("\t", 2)
  if Gem::Version.correct?(a) && Gem::Version.correct?(b)
    puts(Gem::Version.new(a) <=> Gem::Version.new(b))
  else
    puts "INVALID"
  end
end
