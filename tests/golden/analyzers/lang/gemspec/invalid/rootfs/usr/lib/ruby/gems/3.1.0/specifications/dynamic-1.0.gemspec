Gem::Specification.new do |s|
  s.name = NAME
  s.version = VERSION
end
