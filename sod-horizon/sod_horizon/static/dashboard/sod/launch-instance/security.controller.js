/**
 * The Launch Instance "Security" step: a package and/or the seven options
 * with C/I, checked live against sod-nova's catalogue and this cloud's
 * trusted hosts. The step is invalid (Launch disabled) while a choice is
 * being checked or when sod-nova refuses it, so a launch never silently
 * drops a protection. The chosen flavor goes with the choice: sod-nova
 * answers for the guest it launches, and says so when only servers that
 * protect a confidential guest could take the choice and the flavor does
 * not launch one.
 */
(function () {
  'use strict';

  angular
    .module('horizon.dashboard.sod')
    .controller('horizon.dashboard.sod.SecurityStepController', SecurityStepController);

  SecurityStepController.$inject = ['$scope', 'horizon.dashboard.sod.api'];

  function SecurityStepController($scope, sodAPI) {
    var ctrl = this;
    var latest = 0;

    ctrl.packages = [];
    ctrl.options = [];
    ctrl.choice = {package: '', options: {}, confidentiality: true, integrity: true};
    ctrl.result = null;
    ctrl.checking = false;
    ctrl.valid = '';

    sodAPI.getChoices().then(function (data) {
      if (data) {
        ctrl.packages = data.packages;
        ctrl.options = data.options;
      }
    });

    $scope.$watch(function () { return ctrl.choice; }, onChoiceChange, true);
    $scope.$watch(flavorId, function (now, before) {
      if (now !== before) { onChoiceChange(); }
    });

    function flavorId() {
      var spec = $scope.model && $scope.model.newInstanceSpec;
      return spec && spec.flavor ? spec.flavor.id : null;
    }

    function body() {
      var options = [];
      angular.forEach(ctrl.choice.options, function (checked, number) {
        if (checked) {
          options.push(parseInt(number, 10));
        }
      });
      options.sort(function (a, b) { return a - b; });
      var properties = [];
      if (ctrl.choice.confidentiality) { properties.push('C'); }
      if (ctrl.choice.integrity) { properties.push('I'); }
      return {package: ctrl.choice.package || null, options: options,
              properties: properties, flavor_id: flavorId()};
    }

    function setMeta(metadata) {
      if ($scope.model && $scope.model.newInstanceSpec) {
        $scope.model.newInstanceSpec.sod_meta = metadata;
      }
    }

    function onChoiceChange() {
      var ticket = ++latest;
      ctrl.checking = true;
      ctrl.valid = '';
      setMeta(null);
      var choice = body();
      sodAPI.check(choice).then(function (result) {
        if (ticket !== latest) { return; }
        ctrl.checking = false;
        ctrl.result = result;
        ctrl.valid = result.valid ? 'yes' : '';
        setMeta(result.valid ? result.metadata : null);
      }, function () {
        if (ticket !== latest) { return; }
        ctrl.checking = false;
        // Fail closed for a choice that asks for protection: no launch
        // without sod-nova's word on it. Asking for nothing needs no check.
        var empty = !choice.package && !choice.options.length;
        ctrl.valid = empty ? 'yes' : '';
        ctrl.result = {valid: false, error: empty ? '' : gettext(
          'The choice could not be checked; try again in a moment.')};
      });
    }
  }
})();
