Gem::Specification.new do |s|
  s.name = 'myapp'
  s.version = MyApp::VERSION
end
